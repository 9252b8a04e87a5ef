"""CSV for list endpoints: `?format=csv` (or `Accept: text/csv`) answers a page of rows as CSV.

Each row is one result of the list, nested objects flattened to dotted column names
(`receipt.seq`), lists written as their JSON text. A page is a page: the response carries the
total (`X-Total-Count`) and a `Link` header to the next page, and `page_size` goes up to 500.
Cells a spreadsheet would run as formulas are quoted (OWASP, CSV injection). Errors keep the one
JSON error shape whatever format was asked for.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils import encoders

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: value}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    if text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, with the compact UTF-8 form (the default) written by orjson.

    Types orjson does not write itself (dates and times, decimals, lazy strings, UUIDs, …) go
    through DRF's encoder, so they come out as before; anything orjson refuses (an integer beyond
    64 bits, say) and every indented rendering go through DRF's renderer unchanged. Like DRF,
    U+2028 and U+2029 are escaped.
    """

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if (
            self.compact
            and not self.ensure_ascii
            and self.get_indent(accepted_media_type, renderer_context or {}) is None
        ):
            try:
                out = orjson.dumps(data, default=_ENCODER.default, option=_OPTIONS)
            except orjson.JSONEncodeError:
                pass
            else:
                if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
                    out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
                return out
        return super().render(data, accepted_media_type, renderer_context)


_ENCODER = encoders.JSONEncoder()


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            response["Content-Type"] = "application/json"
            return FastJSONRenderer().render(data, "application/json", renderer_context)
        rows = data.get("results", [data]) if isinstance(data, dict) else list(data or [])
        flat = [_flatten(row) if isinstance(row, dict) else {"value": row} for row in rows]
        header: list[str] = []
        for row in flat:
            header.extend(key for key in row if key not in header)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in flat:
            writer.writerow([_cell(row.get(key)) for key in header])
        return out.getvalue().encode("utf-8")


# What a list endpoint renders: the defaults, and CSV.
LIST_RENDERERS = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
