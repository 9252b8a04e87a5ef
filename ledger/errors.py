"""The ledger's exceptions. The API turns each into one JSON error shape by its `code`."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error; `code` is stable and machine-readable."""

    code = "ledger_error"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class EventRejected(LedgerError):
    """The event cannot enter the log (too large, a float, bad field…); nothing was written."""

    code = "event_rejected"


class NotInLog(LedgerError):
    """The entry, size or proof asked for is not (yet) in the log or beyond a checkpoint."""

    code = "not_found"


class BadProofRequest(LedgerError):
    """The proof parameters are out of range (negative, beyond the latest checkpoint…)."""

    code = "invalid_parameters"


class SigningRefused(LedgerError):
    """The signer will not sign: the new root is not consistent with the last signed one."""

    code = "signing_refused"


class SigningKeyUnavailable(LedgerError):
    """No usable checkpoint signing key is configured."""

    code = "signing_key_unavailable"
