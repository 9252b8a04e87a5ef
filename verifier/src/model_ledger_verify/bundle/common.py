"""What every step of the bundle check shares: file names, limits, the error, small readers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

BUNDLE_FORMAT = "ledger-bundle/1"
MANIFEST_FILE = "manifest.json"
ENTRIES_FILE = "entries.ndjson"
CHECKPOINTS_FILE = "checkpoints.ndjson"
KEYS_FILE = "keys.json"
REQUIRED_FILES = (ENTRIES_FILE, CHECKPOINTS_FILE, KEYS_FILE)
TRUSTED_CHECKPOINT = "trusted checkpoint"

MAX_LINE_BYTES = 4 << 20
"""The longest entry or checkpoint line accepted; bounds memory on a hostile bundle."""

MAX_SMALL_FILE_BYTES = 64 << 20
"""The largest ``manifest.json`` or ``keys.json`` that is read into memory."""

HEX64 = re.compile(r"[0-9a-f]{64}")


class VerificationError(Exception):
    """The bundle does not verify. ``str()`` names the file, line and seq where known.

    ``reason`` is the bare description; ``file``, ``line`` (1-based) and ``seq`` locate it.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        seq: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.seq = seq
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where} line {self.line}".strip()
        if self.seq is not None:
            where = f"{where} (seq {self.seq})".strip()
        return f"{where}: {self.reason}" if where else self.reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments need help to cross a process boundary.
        return (_rebuild_error, (self.reason, self.file, self.line, self.seq))

    def to_dict(self) -> dict[str, Any]:
        """Return the error as JSON-ready data."""
        return {
            "error": str(self),
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
            "seq": self.seq,
        }


def _rebuild_error(reason: str, file: str | None, line: int | None, seq: int | None) -> VerificationError:
    return VerificationError(reason, file=file, line=line, seq=seq)


def refuse(text: str) -> Any:
    raise ValueError(text)


def read_small(path: Path, name: str) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SMALL_FILE_BYTES + 1)
    except FileNotFoundError:
        raise VerificationError("file is missing from the bundle", file=name) from None
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=name) from None
    if len(data) > MAX_SMALL_FILE_BYTES:
        raise VerificationError(f"is larger than {MAX_SMALL_FILE_BYTES} bytes", file=name)
    return data


def load_json(data: bytes, name: str, line: int | None = None) -> Any:
    try:
        return json.loads(data, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(f"not valid JSON ({exc})", file=name, line=line) from None


def is_int(value: object) -> bool:
    return type(value) is int


def digest_mismatch(name: str, listed: str, actual: str) -> str:
    return f"lists SHA-256 {listed} for {name}, but the file's SHA-256 is {actual}"
