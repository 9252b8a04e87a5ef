"""What must hold, and what follows, when identities change on any path.

The model signals call these for the API, the console, Django admin, commands and the ORM alike:

- nobody grants a role to themselves;
- changing or resetting a password, deactivating a user, or removing their last role revokes
  every API token they hold (each revocation is a `token.revoked` event).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Group
from knox.models import AuthToken

from governance import actors
from governance.errors import Forbidden
from governance.roles import Role
from governance.services.identity import events
from governance.services.identity.users import grant_problem

# Set only by the two-person officer services while they add the membership they just approved.
_officer_gate: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("officer_gate", default=None)


@contextlib.contextmanager
def officer_gate(grantee: AbstractBaseUser, extra: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Let `grantee` (only) be added to the compliance officer group inside the block; the
    `role.granted` event carries `extra`, and its ledger key is left in the yielded dict."""
    gate = {"grantee": grantee.pk, "extra": extra, "key": None}
    token = _officer_gate.set(gate)
    try:
        yield gate
    finally:
        _officer_gate.reset(token)


def _gate_for(user: AbstractBaseUser, role: str) -> dict[str, Any] | None:
    gate = _officer_gate.get()
    if role == Role.COMPLIANCE_OFFICER and gate is not None and gate["grantee"] == user.pk:
        return gate
    return None


def check_role_grants(pairs: Iterable[tuple[AbstractBaseUser, Group]]) -> None:
    """Raise Forbidden if a membership about to be added breaks a rule."""
    actor = actors.current()
    for user, group in pairs:
        if _gate_for(user, group.name) is not None:
            continue  # approved by two people (or the bootstrap) a moment ago
        if problem := grant_problem(actor.user, user, {group.name}):
            raise Forbidden(problem)


def role_granted(user: AbstractBaseUser, role: str) -> None:
    gate = _gate_for(user, role)
    key = events.role_changed(user, role, granted=True, extra=gate["extra"] if gate else None)
    if gate is not None:
        gate["key"] = key


def role_revoked(user: AbstractBaseUser, role: str) -> None:
    events.role_changed(user, role, granted=False)
    if not user.groups.filter(name__in=Role.values).exists():
        tokens_revoke_all(user, reason="last role removed")


def after_deactivation(user: AbstractBaseUser) -> None:
    if not user.is_active:
        tokens_revoke_all(user, reason="user deactivated")


def after_password_change(user: AbstractBaseUser) -> None:
    tokens_revoke_all(user, reason="password changed")


def tokens_revoke_all(user: AbstractBaseUser, *, reason: str) -> int:
    """Delete every API token `user` holds, logging each as `token.revoked`; return how many."""
    with events.token_revocation_reason(reason):
        deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
