"""Request body parsing: DRF's JSON, form and multipart parsers, refusing bodies nested too deep
to parse and text holding NUL characters, whatever the content type."""

from __future__ import annotations

import io
from typing import Any

import orjson
from django.conf import settings
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


# Bytes classes for the big-integer guard: "d" a digit, "p" a byte a JSON number may follow.
_NUMBER_GUARD = bytes(ord("d") if 0x30 <= b <= 0x39 else ord("p") if b in b":,[- \t\r\n" else 46 for b in range(256))
# orjson reads an integer beyond 64 bits as a float; the standard library keeps it exact.
_LONG_INTEGER = b"p" + b"d" * 19
_NUL_ESCAPE = b"\\u0000"


class StrictJSONParser(JSONParser):
    """JSON parser that refuses, with 400, bodies nested beyond the recursion limit and text
    holding NUL characters (PostgreSQL cannot store them, and no record needs them).

    A UTF-8 body is parsed by orjson (about three times faster than the standard library on a
    batch of decisions). Whatever orjson refuses, and any body holding an integer of 20 digits
    or more (which orjson would read as a float), is parsed again by DRF's parser, so what is
    accepted and every error message stay as they were.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if stream is not None and encoding.lower().replace("-", "") == "utf8":
            body = stream.read()
            data = _fast_loads(body)
            if data is _FALLBACK:
                data = self._standard(io.BytesIO(body), media_type, parser_context)
            elif _NUL_ESCAPE in body and _has_nul(data):  # NUL reaches a string only escaped
                raise ParseError(_JSON_NUL_MESSAGE)
            return data
        return self._standard(stream, media_type, parser_context)

    def _standard(self, stream: Any, media_type: str | None, parser_context: dict | None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if _has_nul(data):
            raise ParseError(_JSON_NUL_MESSAGE)
        return data


_JSON_NUL_MESSAGE = "JSON parse error - text may not contain NUL (\\u0000) characters."
_FALLBACK = object()


def _fast_loads(body: bytes) -> Any:
    """Return orjson's reading of `body`, or _FALLBACK when the standard parser must decide."""
    if _LONG_INTEGER in body.translate(_NUMBER_GUARD):
        return _FALLBACK
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _FALLBACK


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
