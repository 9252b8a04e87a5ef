"""Reads of the assurance records: the revision in force of each entry."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from governance import access
from governance.models import ModelVersion, RegisteredModel
from governance.models.assurance import ASSURANCE_TABLES


def assurance_current(kind: str, *, model: RegisteredModel, version: ModelVersion | None = None) -> list[models.Model]:
    """Return the latest revision of every entry of `kind` on `model` (or, for findings, `version`)."""
    table = ASSURANCE_TABLES[kind]
    parent = {"version": version} if kind == "finding" else {"model": model}
    latest: dict[str, models.Model] = {}
    for row in table.objects.filter(**parent).select_related("recorded_by").order_by("entry_id", "revision"):
        latest[row.entry_id] = row
    return list(latest.values())


def assurance_list(
    user: AbstractBaseUser, kind: str, *, model: RegisteredModel, version: ModelVersion | None = None
) -> list[models.Model]:
    """`assurance_current` for a caller who may read the model (else NotVisible)."""
    access.require(user, "view", model)
    return assurance_current(kind, model=model, version=version)
