"""Shared field helpers: SHA-256 hex checks, named constraints."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

SHA256_REGEX = r"^[0-9a-f]{64}$"


def sha256_field(**kwargs: object) -> models.CharField:
    return models.CharField(max_length=64, **kwargs)


def sha256_check(field: str, *, name: str, nullable: bool = False) -> models.CheckConstraint:
    """A named constraint: `field` holds 64 lowercase hex digits (or is empty when nullable)."""
    condition = Q(**{f"{field}__regex": SHA256_REGEX})
    if nullable:
        condition |= Q(**{field: ""})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f"{field} must be a SHA-256: 64 lowercase hex digits.",
    )


def choices_check(field: str, choices: type[models.TextChoices], *, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name=name,
        violation_error_message=f"{field} must be one of {', '.join(choices.values)}.",
    )
