"""Where the sealing certificate comes from: a PKCS #12 file, or (in development) a throwaway CA.

With no REPORT_SIGNING_P12_FILE and DEBUG on, `sealing.development_credentials` makes a CA and
a seal certificate named as untrusted under var/dev-report-keys/ (git ignores var/), reports
carry a DEVELOPMENT watermark, and `manage.py check --deploy` reports governance.E001.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from governance.errors import GovernanceError
from governance.reports import sealing

logger = logging.getLogger(__name__)
_cache: dict[tuple, sealing.SealingCredentials] = {}


class SealingUnavailable(GovernanceError):
    """No usable report sealing certificate is configured."""

    code = "sealing_unavailable"


def tsa_roots() -> list[bytes]:
    """Return the PEM blobs of REPORT_TSA_ROOTS_FILE (none when unset).

    Raise SealingUnavailable when the file cannot be read.
    """
    path = settings.REPORT_TSA_ROOTS_FILE
    if path is None:
        return []
    try:
        return [Path(path).read_bytes()]
    except OSError as exc:
        raise SealingUnavailable(f"REPORT_TSA_ROOTS_FILE cannot be read ({exc.strerror}).") from None


def seal_statement(*, development: bool, tsa_url: str | None) -> str:
    """Return what the first page says about the seal: its PAdES baseline level and what that means."""
    if tsa_url:
        return (
            "PAdES baseline B-LTA (ETSI EN 319 142-1): the seal carries an RFC 3161 timestamp from "
            f"{tsa_url}; the certificates and revocation data needed to validate it later are embedded; "
            "a document timestamp covers the whole file."
        )
    statement = (
        "PAdES baseline B-B (ETSI EN 319 142-1): no trusted timestamp and no embedded validation "
        "data; the signing time is the sealer's own claim."
    )
    if development:
        statement += " Sealed with the development certificate, which nobody trusts."
    return statement


def _passphrase() -> bytes | None:
    path = settings.REPORT_SIGNING_P12_PASSPHRASE_FILE
    if path is None:
        return None
    try:
        return Path(path).read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise SealingUnavailable(f"REPORT_SIGNING_P12_PASSPHRASE_FILE cannot be read ({exc.strerror}).") from None


def sealing_credentials() -> sealing.SealingCredentials:
    """Return the configured sealing credentials (cached per file and modification time).

    Raise SealingUnavailable when none is configured outside development, or it cannot be loaded.
    """
    p12 = settings.REPORT_SIGNING_P12_FILE
    if p12 is None:
        if not settings.DEBUG:
            raise SealingUnavailable(
                "No report sealing certificate: set REPORT_SIGNING_P12_FILE (and "
                "REPORT_SIGNING_P12_PASSPHRASE_FILE) to a PKCS #12 file with an RSA-3072 or ECDSA P-256 key."
            )
        directory = Path(settings.VAR_DIR) / "dev-report-keys"
        key = ("dev", str(directory))
        if key not in _cache:
            logger.warning("Sealing reports with DEVELOPMENT credentials from %s: they prove nothing.", directory)
            try:
                _cache[key] = sealing.development_credentials(directory)
            except sealing.SealingError as exc:
                raise SealingUnavailable(str(exc)) from None
        return _cache[key]
    path = Path(p12)
    try:
        key = ("p12", str(path), path.stat().st_mtime)
    except OSError as exc:
        raise SealingUnavailable(f"REPORT_SIGNING_P12_FILE {path} cannot be read ({exc.strerror}).") from None
    if key not in _cache:
        try:
            _cache[key] = sealing.load_signer(path, _passphrase())
        except sealing.SealingError as exc:
            raise SealingUnavailable(str(exc)) from None
    return _cache[key]
