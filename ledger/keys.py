"""The checkpoint signing key: loaded from LEDGER_SIGNING_KEY_FILE, or a development key.

The key file holds one signer key line in the Go `note` format (see docs/ledger-format.md).
With no file configured and DEBUG on, a throwaway key is generated under var/dev-keys/ (which git
ignores) with a name ending in DEVELOPMENT-KEY, so everything it signs says what it is; the
`ledger.W001`/`ledger.E002` checks make `manage.py check --deploy` fail while it is in use.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.errors import SigningKeyUnavailable
from ledger.models import SigningKey
from model_ledger_verify import notes

logger = logging.getLogger(__name__)

DEV_KEY_FILENAME = "ledger-signing.key"
DEV_KEY_SUFFIX = "DEVELOPMENT-KEY"

_cache: dict[tuple[str, float], notes.Signer] = {}


def uses_development_key() -> bool:
    """Return True when no key file is configured, so the development key would be used."""
    return settings.LEDGER_SIGNING_KEY_FILE is None


def development_key_name() -> str:
    return f"{settings.LEDGER_ORIGIN}/{DEV_KEY_SUFFIX}"


def _key_path() -> Path:
    if settings.LEDGER_SIGNING_KEY_FILE is not None:
        return Path(settings.LEDGER_SIGNING_KEY_FILE)
    if not settings.DEBUG:
        raise SigningKeyUnavailable(
            "No checkpoint signing key: set LEDGER_SIGNING_KEY_FILE to a file holding a key made "
            "by `manage.py ledger_keys --generate NAME` (a development key is only made when "
            "DJANGO_DEBUG is on)."
        )
    path = Path(settings.LEDGER_DEV_KEY_DIR) / DEV_KEY_FILENAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(notes.generate_signer_key(development_key_name()) + "\n")
        logger.warning("Generated a DEVELOPMENT ledger signing key at %s", path)
    return path


def active_signer() -> notes.Signer:
    """Return the configured signer, reading the key file once per change of the file.

    Raise SigningKeyUnavailable when the file is missing or malformed.
    """
    path = _key_path()
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise SigningKeyUnavailable(f"LEDGER_SIGNING_KEY_FILE {path} cannot be read ({exc.strerror}).") from None
    cached = _cache.get((str(path), mtime))
    if cached is not None:
        return cached
    try:
        signer = notes.Signer.from_string(path.read_text(encoding="utf-8").strip())
    except (OSError, notes.NoteError) as exc:
        raise SigningKeyUnavailable(f"The signing key in {path} is not usable: {exc}") from None
    if signer.name.endswith(DEV_KEY_SUFFIX):
        logger.warning(
            "Signing ledger checkpoints with a DEVELOPMENT key (%s): nothing it signs is "
            "trustworthy. Set LEDGER_SIGNING_KEY_FILE for production.",
            signer.name,
        )
    _cache.clear()
    _cache[(str(path), mtime)] = signer
    return signer


@transaction.atomic
def signing_key_register(signer: notes.Signer) -> tuple[SigningKey, SigningKey | None]:
    """Return (row for this signer, the row it replaced or None), rotating if the key changed.

    A new key ends the previous key's validity now; old rows are kept so old checkpoints verify.
    """
    key_id = signer.key_id.hex()
    current = SigningKey.objects.select_for_update().filter(valid_until__isnull=True).first()
    if current is not None and current.key_id == key_id:
        return current, None
    now = timezone.now()
    if current is not None:
        current.valid_until = now
        current.save(update_fields=["valid_until"])
    row, _ = SigningKey.objects.update_or_create(
        key_id=key_id,
        defaults={
            "name": signer.name,
            "verifier_key": signer.verifier_key(),
            "development": signer.name.endswith(DEV_KEY_SUFFIX),
            "valid_from": now,
            "valid_until": None,
        },
    )
    return row, current
