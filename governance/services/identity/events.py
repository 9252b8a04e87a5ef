"""Identity events: who created, (de)activated, promoted, re-keyed or re-roled whom.

Called by the model signals in `governance.signals`, whatever path made the change, inside the
transaction that made it. The actor comes from `governance.actors`. A password event says only
that it changed; a token event names the token by `token_id`, a hash of knox's stored digest,
never anything from which the token could be recovered.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from governance import actors, events
from governance.records import rfc3339

_token_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar("token_revocation_reason", default=None)
_token_name: contextvars.ContextVar[str] = contextvars.ContextVar("token_name", default="")


def token_id(digest: str) -> str:
    """Return the public name of a knox token: the first 16 hex digits of SHA-256(digest)."""
    return hashlib.sha256(digest.encode()).hexdigest()[:16]


@contextlib.contextmanager
def token_revocation_reason(reason: str) -> Iterator[None]:
    """Say why tokens deleted inside the block were revoked (else "revoked" or "expired")."""
    token = _token_reason.set(reason)
    try:
        yield
    finally:
        _token_reason.reset(token)


@contextlib.contextmanager
def token_named(name: str) -> Iterator[None]:
    """Name the token issued inside the block (its holder's label, in `token.issued`)."""
    token = _token_name.set(name)
    try:
        yield
    finally:
        _token_name.reset(token)


def token_name() -> str:
    """Return the name given to the token being issued ("" when none was)."""
    return _token_name.get()


def _record(type: str, user: AbstractBaseUser, data: dict[str, Any]) -> str:
    actor = actors.current()
    payload = {"user": user.get_username(), **data, "via": actor.via}
    if actor.user is None:
        payload["os_user"] = actors.os_account()
    return events.record(
        type=type,
        actor=actor.label,
        subject=f"user:{user.get_username()}",
        key=f"{type}:{uuid.uuid4()}",
        data=payload,
    )


def user_created(user: AbstractBaseUser) -> str:
    return _record(
        "user.created",
        user,
        {
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "usable_password": user.has_usable_password(),
        },
    )


def user_active_changed(user: AbstractBaseUser) -> str:
    return _record("user.reactivated" if user.is_active else "user.deactivated", user, {})


def user_privileges_changed(user: AbstractBaseUser, before: dict[str, bool]) -> str:
    after = {"is_staff": user.is_staff, "is_superuser": user.is_superuser}
    return _record("user.privileges_changed", user, {"before": before, "after": after})


def password_changed(user: AbstractBaseUser) -> str:
    return _record("password.changed", user, {"usable": user.has_usable_password()})


def role_changed(user: AbstractBaseUser, role: str, *, granted: bool, extra: dict[str, Any] | None = None) -> str:
    return _record("role.granted" if granted else "role.revoked", user, {"role": role, **(extra or {})})


def token_issued(user: AbstractBaseUser, digest: str, expiry: Any) -> str:
    data = {"token_id": token_id(digest), "expires_at": rfc3339(expiry)}
    if _token_name.get():
        data["name"] = _token_name.get()
    return _record("token.issued", user, data)


def token_revoked(user: AbstractBaseUser, digest: str, *, expired: bool) -> str:
    reason = _token_reason.get() or ("expired" if expired else "revoked")
    return _record("token.revoked", user, {"token_id": token_id(digest), "reason": reason})
