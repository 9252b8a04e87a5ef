"""The machine-readable twin of a sealed report: ``report.json``, bound by the manifest.

A report embeds, as PDF/A-3 associated files (ISO 19005-3 §6.8), ``manifest.json``,
``evidence.json`` (the facts and their ledger leaves) and ``report.json`` (format
``ledger-report-content/1``: every section and block the pages show, as data; schema in the
service's docs/report-content.schema.json). The manifest binds report.json by SHA-256 under
``report_json_sha256``, so the seal covers it. Django-free.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from model_ledger_verify import evidence
from model_ledger_verify.report_seal import _fail

TWIN_FORMAT = "ledger-report-content/1"
TWIN_NAME = "report.json"
TWIN_MANIFEST_KEY = "report_json_sha256"

__all__ = ["TWIN_FORMAT", "TWIN_MANIFEST_KEY", "TWIN_NAME", "check_twin", "read_twin"]


def read_twin(reader: Any) -> dict[str, Any] | None:
    """Return the parsed report.json of a pyHanko reader, or None if the report has none.

    Raise ReportVerificationError when it is unreadable, not JSON or not of TWIN_FORMAT.
    """
    try:
        raw = evidence.read_embedded(reader, TWIN_NAME)
    except evidence.EvidenceError as exc:
        raise _fail(str(exc)) from exc
    if raw is None:
        return None
    return _parse(raw)


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        twin = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"{TWIN_NAME} is not JSON: {exc}") from exc
    if not isinstance(twin, dict) or twin.get("format") != TWIN_FORMAT:
        raise _fail(f"{TWIN_NAME} is not of format {TWIN_FORMAT}")
    return twin


def check_twin(reader: Any, manifest: dict[str, Any]) -> bool:
    """Check the report.json that the manifest binds; return whether the report has one.

    It must be the file the manifest names by SHA-256, of format ``ledger-report-content/1``,
    and about the same report (``report_id``, ``kind`` and ``generated_at`` equal the
    manifest's). A report sealed before the twin existed has neither the file nor the hash.
    """
    digest = manifest.get(TWIN_MANIFEST_KEY)
    try:
        raw = evidence.read_embedded(reader, TWIN_NAME)
    except evidence.EvidenceError as exc:
        raise _fail(str(exc)) from exc
    if digest is None and raw is None:
        return False
    if raw is None:
        raise _fail(f"the manifest names a {TWIN_NAME} that the report does not embed")
    if digest is None:
        raise _fail(f"the report embeds a {TWIN_NAME} that its manifest does not bind")
    if hashlib.sha256(raw).hexdigest() != digest:
        raise _fail(f"{TWIN_NAME} is not the one the manifest names (its SHA-256 differs)")
    twin = _parse(raw)
    for key in ("report_id", "kind", "generated_at"):
        if twin.get(key) != manifest.get(key):
            raise _fail(
                f"{TWIN_NAME} is about another report: its {key} is {twin.get(key)!r}, not {manifest.get(key)!r}"
            )
    return True
