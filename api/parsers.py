"""Request body parsing: DRF's JSON, form and multipart parsers, refusing bodies nested too deep
to parse and text holding NUL characters, whatever the content type."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif hasattr(item, "lists"):  # a QueryDict from a form or multipart body
            for key, values in item.lists():
                stack.append(key)
                stack.extend(values)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StrictJSONParser(JSONParser):
    """JSON parser that refuses, with 400, bodies nested beyond the recursion limit and text
    holding NUL characters (PostgreSQL cannot store them, and no record needs them)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if _has_nul(data):
            raise ParseError("JSON parse error - text may not contain NUL (\\u0000) characters.")
        return data


_NUL_MESSAGE = "Form parse error - text may not contain NUL characters."


class StrictFormParser(FormParser):
    """Form parser that refuses, with 400, fields holding NUL characters."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError(_NUL_MESSAGE)
        return data


class StrictMultiPartParser(MultiPartParser):
    """Multipart parser that refuses, with 400, fields holding NUL characters."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        if _has_nul(parsed.data):
            raise ParseError(_NUL_MESSAGE)
        return parsed
