"""Roles are Django groups; these are their names and what a user's set of them allows."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models


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
