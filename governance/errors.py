"""The governance domain's exceptions; the API maps each `code` to an HTTP status."""

from __future__ import annotations

from typing import Any


class GovernanceError(Exception):
    """Base of domain errors: a stable `code`, a human `message`, per-field `errors`."""

    code = "governance_error"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(GovernanceError):
    """The command's input is malformed; nothing was written."""

    code = "invalid"


class NotVisible(GovernanceError):
    """The object does not exist or the caller may not read it (both answer 404)."""

    code = "not_found"


class Forbidden(GovernanceError):
    """The caller may read the object but not do this to it."""

    code = "permission_denied"


class SeparationOfDuties(Forbidden):
    """The signature would break a separation-of-duties rule."""

    code = "separation_of_duties"


class ReauthenticationFailed(Forbidden):
    """The signer's password, re-entered to sign, was wrong."""

    code = "reauthentication_failed"


class Conflict(GovernanceError):
    """The command conflicts with the record's state (wrong status, duplicate, not deployed)."""

    code = "conflict"


class RecordDiffersFromLedger(Conflict):
    """A record differs from the ledger entry that recorded it; nothing is built from it."""

    code = "record_differs_from_ledger"


class LockedOut(GovernanceError):
    """Too many failed sign-ins (or signature passwords): refused until the cool-off ends."""

    code = "locked_out"
