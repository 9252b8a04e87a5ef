"""Domain events into the ledger: every governance write logs one, in its own transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from governance.errors import InvalidInput
from ledger import services as ledger_services
from ledger.errors import EventRejected


def actor_name(user: AbstractBaseUser | str | None) -> str:
    """Return the leaf's actor: `user:<username>` for a person, a marker string as given."""
    if isinstance(user, str):
        return user
    return f"user:{user.get_username()}" if user is not None else "system"


def record(*, type: str, actor: AbstractBaseUser | str | None, subject: str, key: str, data: dict[str, Any]) -> str:
    """Queue the event in the caller's transaction; return its idempotency key.

    Raise InvalidInput if the ledger refuses the event (too large, a float…).
    """
    try:
        ledger_services.submit(type=type, actor=actor_name(actor), subject=subject, idempotency_key=key, data=data)
    except EventRejected as exc:
        raise InvalidInput(exc.message, errors=exc.errors) from None
    return key


def record_many(events: list[dict[str, Any]]) -> list[str]:
    try:
        ledger_services.submit_many(events)
    except EventRejected as exc:
        raise InvalidInput(exc.message, errors=exc.errors) from None
    return [event["idempotency_key"] for event in events]


def sequence_before_commit() -> None:
    """Put the events queued so far in this transaction into the log before it commits.

    For writers whose answer waits for its entries (`?wait=entry`): see
    `ledger.services.tree_integrate_before_commit`.
    """
    ledger_services.tree_integrate_before_commit()
