"""Reads for the model page's monitoring charts: recent observations and which versions were
ever approved (a chart marks the points of any other version as unapproved)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from governance.models import ModelVersion, Observation, RegisteredModel
from governance.selectors.monitoring import observation_list

# The charts draw at most this many of the latest observations: a model observed every five
# minutes for a month posts ~9,000 windows per feature, more points than a 340-pixel chart shows.
CHART_OBSERVATIONS = 2_000


def chart_observations(
    user: AbstractBaseUser, model: RegisteredModel, since: datetime | None = None
) -> list[Observation]:
    """Return the latest observations of `model` (at most CHART_OBSERVATIONS), oldest first."""
    queryset = observation_list(user, model)
    if since is not None:
        queryset = queryset.filter(window_end__gte=since)
    latest = list(queryset.select_related(None).select_related("version")[:CHART_OBSERVATIONS])
    return latest[::-1]


def approved_version_ids(model: RegisteredModel) -> set[int]:
    """Return the ids of `model`'s versions that are or were approved (signed off for production).

    A version approved and later deployed, rolled back or retired stays approved; a version
    registered, in review or rejected never was.
    """
    return set(
        ModelVersion.objects.filter(model=model)
        .filter(
            Q(status__in=[ModelVersion.Status.APPROVED, ModelVersion.Status.DEPLOYED])
            | Q(status_changes__to_status="approved")
        )
        .values_list("pk", flat=True)
        .distinct()
    )
