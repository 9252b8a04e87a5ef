"""Small input checks shared by the services; each failure is collected per field."""

from __future__ import annotations

import re
from typing import Any

from governance.errors import InvalidInput
from governance.models.fields import STORAGE_SCHEMES, STORAGE_URI_REGEX, WEB_SCHEMES, WEB_URL_REGEX

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DECIMAL_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
# A deployment environment: a slug of at most 50 characters ("production", "eu-staging").
ENVIRONMENT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,49}$"
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
# A decision id is the serving system's idempotency key and part of URLs: ASCII letters and
# digits, then also . _ : - (a UUID, "loan-2026-000123", "run:42.7"), at most 80 characters (so
# that its ledger key, "decision.logged:<model>:<id>", fits in 200).
DECISION_ID_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$"
DECISION_ID_RE = re.compile(DECISION_ID_REGEX)
WEB_URL_RE = re.compile(WEB_URL_REGEX)
STORAGE_URI_RE = re.compile(STORAGE_URI_REGEX)


class Errors:
    """Collect per-field errors, then raise them together as one InvalidInput."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def check(self, ok: bool, field: str, message: str) -> bool:
        if not ok:
            self.add(field, message)
        return ok

    def sha256(self, value: Any, field: str, *, optional: bool = False) -> None:
        if optional and value in ("", None):
            return
        self.check(
            isinstance(value, str) and bool(SHA256_RE.match(value)),
            field,
            "Must be a SHA-256: 64 lowercase hex digits.",
        )

    def text(self, value: Any, field: str, *, limit: int, required: bool = True) -> None:
        if not isinstance(value, str):
            self.add(field, "Must be a string.")
        elif required and not value.strip():
            self.add(field, "This field is required.")
        elif len(value) > limit:
            self.add(field, f"At most {limit} characters.")

    def url(self, value: Any, field: str, *, limit: int, storage: bool = False, required: bool = False) -> None:
        """Check an http(s) URL, or with `storage` a URI of STORAGE_SCHEMES; blank unless required."""
        if not isinstance(value, str):
            self.add(field, "Must be a string.")
            return
        if not value and not required:
            return
        pattern, schemes = (STORAGE_URI_RE, STORAGE_SCHEMES) if storage else (WEB_URL_RE, WEB_SCHEMES)
        if len(value) > limit:
            self.add(field, f"At most {limit} characters.")
        elif not pattern.fullmatch(value):
            self.add(field, f"A URL with one of the schemes {', '.join(schemes)} (lowercase, no spaces).")

    def decimal(self, value: Any, field: str) -> None:
        self.check(
            isinstance(value, str) and bool(DECIMAL_RE.match(value)) and len(value) <= 40,
            field,
            'Must be a decimal string such as "0.8731" (never a float).',
        )

    def raise_if_any(self, message: str = "The input is not valid; nothing was written.") -> None:
        if self.fields:
            raise InvalidInput(message, errors=self.fields)
