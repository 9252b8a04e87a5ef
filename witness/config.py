"""The witness's settings: its cosigning key and the logs it follows, read when first needed."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from model_ledger_verify import notes
from model_ledger_verify.tlog.cosign import Cosigner


@cache
def _cosigner(path: str) -> Cosigner:
    try:
        return Cosigner.from_string(Path(path).read_text(encoding="utf-8"))
    except (OSError, notes.NoteError) as exc:
        raise ImproperlyConfigured(f"WITNESS_SIGNING_KEY_FILE {path}: {exc}") from None


def cosigner() -> Cosigner:
    """Return the witness's cosigning key; raise ImproperlyConfigured when none is set."""
    if not settings.WITNESS_SIGNING_KEY_FILE:
        raise ImproperlyConfigured(
            "Set WITNESS_SIGNING_KEY_FILE to a witness key (manage.py run_witness --generate-key NAME makes one)."
        )
    return _cosigner(str(settings.WITNESS_SIGNING_KEY_FILE))


def logs() -> dict[str, list[notes.Verifier]]:
    """Return origin → verifier keys of the logs this witness follows (``WITNESS_LOGS``)."""
    out: dict[str, list[notes.Verifier]] = {}
    for origin, keys in settings.WITNESS_LOGS.items():
        try:
            out[origin] = [notes.Verifier.from_string(key) for key in keys.split()]
        except notes.NoteError as exc:
            raise ImproperlyConfigured(f"WITNESS_LOGS entry for {origin}: {exc}") from None
    return out
