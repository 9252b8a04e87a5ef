"""The machine-readable twin of a report: its content as JSON, embedded beside the PDF pages.

``report.json`` (format ``ledger-report-content/1``, schema in docs/report-content.schema.json)
holds exactly what the renderer draws: the title block and every section with its blocks, each
block an object whose ``type`` names it (``paragraph``, ``key_values``, ``table``,
``bar_chart``, ``line_chart``, ``timeline``, ``callout``, ``monospace``) and whose other members
are the block's fields. Tuples become arrays, times RFC 3339 strings in UTC. A dossier also
carries ``facts``: the builder's facts as plain data, grouped as its sections are. The sealed
manifest binds it by SHA-256, so a program reads the same content a person reads, under the
same seal. Django-free.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

from governance.reports.content import ReportContent
from model_ledger_verify.report import TWIN_FORMAT, canonical_json

__all__ = ["TWIN_FORMAT", "twin_json", "twin_of"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    return value


def twin_of(content: ReportContent, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the report.json object of ``content``, with the builder's ``facts`` (plain,
    JSON-ready data the sections were laid out from) under ``facts`` when there are any."""
    twin = _plain(content)
    if facts:
        twin["facts"] = facts
    twin["format"] = TWIN_FORMAT
    twin["sections"] = [
        {
            "heading": section.heading,
            "blocks": [{"type": _snake(type(block).__name__), **_plain(block)} for block in section.blocks],
        }
        for section in content.sections
    ]
    return twin


def twin_json(content: ReportContent, facts: dict[str, Any] | None = None) -> bytes:
    """Return report.json of ``content`` (and ``facts``) as canonical JSON bytes (sorted keys,
    no spaces, UTF-8). Raise TypeError if ``facts`` is not JSON-ready."""
    return canonical_json(twin_of(content, facts))
