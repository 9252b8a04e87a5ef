"""People: create, deactivate and reactivate users, grant and revoke roles, set privileges and
passwords. The API, the console and the commands call these; the ledger events themselves are
written by the identity signals, so Django admin and the ORM are logged the same way."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction

from governance import access, actors
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.roles import Role
from governance.validation import Errors

USERNAME_LIMIT = 150
OFFICER_BY_PROPOSAL = (
    "The compliance_officer role takes two people and cannot be added directly: an administrator "
    "proposes it and another compliance officer confirms it (the console's People page, "
    "POST /api/v1/users/{username}/roles/grant, or manage.py propose_officer and confirm_officer)."
)

SELF_GRANT = (
    "Nobody may grant a role to themselves: {user} cannot give themselves the {role} role; another administrator must."
)


def grant_problem(actor: AbstractBaseUser | None, user: AbstractBaseUser, roles: Iterable[str]) -> str | None:
    """Return why `actor` may not add `roles` to `user` directly, or None when they may."""
    for role in sorted(roles):
        if actor is not None and user.pk is not None and actor.pk == user.pk:
            return SELF_GRANT.format(user=user.get_username(), role=role)
        if role == Role.COMPLIANCE_OFFICER:
            return OFFICER_BY_PROPOSAL
    return None


def _require_admin(actor: AbstractBaseUser) -> None:
    access.require(actor, "manage_people")


def _role_group(role: str) -> Group:
    if role not in Role.values:
        raise InvalidInput("Unknown role.", errors={"role": [f"One of {', '.join(Role.values)}."]})
    return Group.objects.get_or_create(name=role)[0]


def _check_password(password: str, user: AbstractBaseUser, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("The password is too weak.", errors={field: list(exc.messages)}) from None


@transaction.atomic
def user_create(
    *,
    actor: AbstractBaseUser,
    username: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
    roles: Iterable[str] = (),
    via: str = "api",
) -> AbstractBaseUser:
    """Create a user (no password: a service account that uses API tokens) with `roles`.

    Logs `user.created` and a `role.granted` per role. Raise Forbidden, InvalidInput or Conflict.
    """
    _require_admin(actor)
    errors = Errors()
    errors.text(username, "username", limit=USERNAME_LIMIT)
    errors.raise_if_any()
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise Conflict(f"A user named {username} already exists.", errors={"username": ["Taken."]})
    groups = [_role_group(role) for role in sorted(set(roles))]
    if problem := grant_problem(actor, User(username=username), {g.name for g in groups}):
        raise Forbidden(problem)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    if password is not None:
        _check_password(password, user)
    with actors.acting_as(actor, via):
        user.set_password(password) if password is not None else user.set_unusable_password()
        user.save()
        user.groups.add(*groups)
    return user


@transaction.atomic
def user_set_active(*, actor: AbstractBaseUser, user: AbstractBaseUser, active: bool, via: str = "api") -> None:
    """Deactivate (revoking every API token) or reactivate `user`; log it. Nobody deactivates themselves."""
    _require_admin(actor)
    if actor.pk == user.pk:
        raise Forbidden("Administrators cannot deactivate or reactivate themselves.")
    if user.is_active == active:
        raise Conflict(f"{user.get_username()} is already {'active' if active else 'deactivated'}.")
    with actors.acting_as(actor, via):
        user.is_active = active
        user.save(update_fields=["is_active"])


@transaction.atomic
def role_grant(*, actor: AbstractBaseUser, user: AbstractBaseUser, role: str, via: str = "api") -> None:
    """Add `role` to `user`; log `role.granted`. The officer role goes through a proposal instead."""
    _require_admin(actor)
    group = _role_group(role)
    if problem := grant_problem(actor, user, {role}):
        raise Forbidden(problem)
    if user.groups.filter(pk=group.pk).exists():
        raise Conflict(f"{user.get_username()} already holds the {role} role.")
    with actors.acting_as(actor, via):
        user.groups.add(group)


@transaction.atomic
def role_revoke(*, actor: AbstractBaseUser, user: AbstractBaseUser, role: str, via: str = "api") -> None:
    """Remove `role` from `user`; log `role.revoked` (their last role also revokes their tokens)."""
    _require_admin(actor)
    group = _role_group(role)
    if not user.groups.filter(pk=group.pk).exists():
        raise Conflict(f"{user.get_username()} does not hold the {role} role.")
    with actors.acting_as(actor, via):
        user.groups.remove(group)


@transaction.atomic
def privileges_set(
    *,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
    via: str = "api",
) -> None:
    """Set or clear Django admin access and superuser status; log `user.privileges_changed`."""
    if not actor.is_superuser:
        raise Forbidden("Only superusers change staff or superuser status.")
    if actor.pk == user.pk:
        raise Forbidden("Nobody changes their own staff or superuser status.")
    asked = (("is_staff", is_staff), ("is_superuser", is_superuser))
    fields = {name: value for name, value in asked if value is not None}
    if not fields:
        raise InvalidInput("Nothing to change: give is_staff or is_superuser.")
    with actors.acting_as(actor, via):
        for name, value in fields.items():
            setattr(user, name, value)
        user.save(update_fields=sorted(fields))


@transaction.atomic
def password_change(
    *,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    new_password: str,
    current_password: str | None = None,
    via: str = "api",
) -> None:
    """Change one's own password (re-entering the current one) or, as an administrator, reset
    someone else's. Logs `password.changed` (never the secret) and revokes every API token."""
    if actor.pk == user.pk:
        if not isinstance(current_password, str) or not user.check_password(current_password):
            raise Forbidden("Re-enter your current password.", errors={"current_password": ["Incorrect password."]})
    else:
        access.require(actor, "manage_people")
    if not isinstance(new_password, str) or not new_password:
        raise InvalidInput("A new password is required.", errors={"new_password": ["This field is required."]})
    _check_password(new_password, user, "new_password")
    with actors.acting_as(actor, via):
        user.set_password(new_password)
        user.save(update_fields=["password"])
