"""Reads of audit reports, narrowed to the reports the caller may read (the `reports` right)."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from governance import access
from governance.errors import NotVisible
from governance.models import ModelVersion, RegisteredModel, Report
from governance.selectors.registry import version_list


def report_list(user: AbstractBaseUser) -> QuerySet[Report]:
    """Return the reports on models `user` holds `reports` on, newest first."""
    queryset = Report.objects.select_related("model", "version", "decision", "requested_by").order_by("-requested_at")
    return access.restrict(user, "reports", queryset, model_field="model")


def report_get(user: AbstractBaseUser, pk: object) -> Report:
    """Return the report `pk` (a UUID, or its text); raise NotVisible when `user` may not read it."""
    try:
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        raise NotVisible("No such report.") from None
    report = report_list(user).filter(pk=pk).first()
    if report is None:
        raise NotVisible("No such report.")
    return report


def reportable_versions(user: AbstractBaseUser) -> QuerySet[ModelVersion]:
    """Versions whose dossier the user may request, newest first."""
    models = access.restrict(user, "reports", RegisteredModel.objects.all()).values("pk")
    return version_list(user).filter(model__in=models).order_by("model__slug", "-registered_at")
