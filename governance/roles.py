"""Roles are Django groups; these are their names and what a user's set of them allows."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models


class Role(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    MODEL_OWNER = "model_owner", "Model owner"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"


# Roles that read every record.
READ_ALL = frozenset({Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN})

_CACHE_ATTR = "_governance_roles"


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[str]:
    """Return the user's role names (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN)
        cached = frozenset(names)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user: AbstractBaseUser) -> None:
    """Drop the cached role names after the user's groups or superuser status changed."""
    user.__dict__.pop(_CACHE_ATTR, None)


# Django's ModelBackend rule for one permission in one statement, where it loads the user's and
# the groups' whole permission sets in two: held directly, or through one of the user's groups.
_HOLDS_SQL = (
    "SELECT 1 FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id "
    "WHERE t.app_label = %s AND p.codename = %s AND (p.id IN (SELECT permission_id FROM "
    "auth_user_user_permissions WHERE user_id = %s) OR p.id IN (SELECT g.permission_id FROM "
    "auth_group_permissions g JOIN auth_user_groups m ON m.group_id = g.group_id WHERE m.user_id = %s))"
)


def holds_permission(user: AbstractBaseUser | AnonymousUser | None, app_label: str, codename: str) -> bool:
    """Return `user.has_perm("<app_label>.<codename>")` as ModelBackend decides it (an active
    superuser holds every permission), read fresh from the database in one query."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    with connection.cursor() as cursor:
        cursor.execute(_HOLDS_SQL, [app_label, codename, user.pk, user.pk])
        return cursor.fetchone() is not None


def has_role(user: AbstractBaseUser | AnonymousUser | None, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def role_title(user: AbstractBaseUser) -> str:
    """Return the printable role used on signatures: the most senior role the user holds."""
    held = roles_of(user)
    for role in (
        Role.COMPLIANCE_OFFICER,
        Role.ADMIN,
        Role.AUDITOR,
        Role.MODEL_OWNER,
        Role.PIPELINE,
    ):
        if role in held:
            return Role(role).label
    return "User"
