"""Lists that grow without bound, filtered for browsing and export: decisions, alerts, reports,
models and a model's versions. Each starts from the selector that narrows it to what the caller
may see, so a filter can only narrow further.

Dates are whole UTC days: `since` is inclusive from its midnight, `until` inclusive to its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet

from governance.models import Alert, Decision, ModelVersion, RegisteredModel, Report
from governance.selectors.decisions import decision_list, decisions_for_subject
from governance.selectors.monitoring import alert_list
from governance.selectors.registry import model_list, version_list
from governance.selectors.reports import report_list

# Outcome suggestions come from this many of the latest decisions, not a scan of all of them.
OUTCOME_SAMPLE = 2_000


@dataclass(frozen=True)
class Filters:
    """What a browsing page narrows by; an empty field does not narrow."""

    q: str = ""
    model: str = ""
    version: str = ""
    since: date | None = None
    until: date | None = None
    outcome: str = ""
    overridden: bool | None = None
    state: str = ""
    kind: str = ""
    risk_tier: str = ""


def day_start(day: date) -> datetime:
    """Return midnight UTC at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_after(day: date) -> datetime | None:
    """Return midnight UTC at the end of `day`; None after the last day a date can hold (a range
    to it is open-ended, and the next day would overflow)."""
    return None if day == date.max else day_start(day + timedelta(days=1))


def _dated(queryset: QuerySet, field: str, f: Filters) -> QuerySet:
    if f.since:
        queryset = queryset.filter(**{f"{field}__gte": day_start(f.since)})
    end = day_after(f.until) if f.until else None
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def _model_and_version(queryset: QuerySet, f: Filters) -> QuerySet:
    if f.model:
        queryset = queryset.filter(model__slug=f.model)
    if f.version:
        queryset = queryset.filter(version__version=f.version)
    return queryset


def decision_browse(user: AbstractBaseUser, f: Filters) -> QuerySet[Decision]:
    """Decisions `user` may read, newest first: by subject reference or decision id (`q`), model,
    version, day range, outcome (the final label when overridden, else the model's output) and
    whether a person overrode it."""
    queryset = decision_list(user)
    if f.q:
        by_subject = decisions_for_subject(user, f.q).values("pk")
        queryset = queryset.filter(Q(decision_id=f.q) | Q(pk__in=by_subject))
    queryset = _dated(_model_and_version(queryset, f), "occurred_at", f)
    if f.outcome:
        queryset = queryset.filter(
            Q(overridden=True, final_label=f.outcome) | Q(overridden=False, output_label=f.outcome)
        )
    if f.overridden is not None:
        queryset = queryset.filter(overridden=f.overridden)
    return queryset.order_by("-occurred_at", "-pk")


def decision_outcomes(user: AbstractBaseUser, limit: int = 50) -> list[str]:
    """The outcome labels of the latest OUTCOME_SAMPLE decisions `user` may read (suggestions for
    a filter; a label seen only long ago can still be typed)."""
    latest = decision_list(user).order_by("-occurred_at").values_list("output_label", "final_label")
    labels = {label for pair in latest[:OUTCOME_SAMPLE] for label in pair if label}
    return sorted(labels)[:limit]


def alert_browse(user: AbstractBaseUser, f: Filters) -> QuerySet[Alert]:
    """Alerts `user` may read, newest first: by model, version, state, kind and day opened."""
    queryset = _dated(_model_and_version(alert_list(user), f), "opened_at", f)
    if f.state:
        queryset = queryset.filter(state=f.state)
    if f.kind:
        queryset = queryset.filter(kind=f.kind)
    return queryset.order_by("-opened_at", "-pk")


def report_browse(user: AbstractBaseUser, f: Filters) -> QuerySet[Report]:
    """Reports `user` may read, newest first: by model, version, kind, status and day requested."""
    queryset = _dated(_model_and_version(report_list(user), f), "requested_at", f)
    if f.state:
        queryset = queryset.filter(status=f.state)
    if f.kind:
        queryset = queryset.filter(kind=f.kind)
    return queryset.order_by("-requested_at", "-pk")


def model_browse(user: AbstractBaseUser, f: Filters) -> QuerySet[RegisteredModel]:
    """Models `user` may read, by slug: `q` in the slug, name or purpose; risk tier; day registered;
    with how many versions and open alerts each has."""
    queryset = model_list(user)
    if f.q:
        queryset = queryset.filter(
            Q(slug__icontains=f.q) | Q(name__icontains=f.q) | Q(intended_purpose__icontains=f.q)
        )
    if f.risk_tier:
        queryset = queryset.filter(risk_tier=f.risk_tier)
    queryset = _dated(queryset, "created_at", f)
    return queryset.annotate(
        version_count=Count("versions", distinct=True),
        open_alerts=Count("alerts", filter=~Q(alerts__state=Alert.State.RESOLVED), distinct=True),
    ).order_by("slug")


def version_search(user: AbstractBaseUser, model: RegisteredModel, f: Filters) -> QuerySet[ModelVersion]:
    """A model's versions `user` may read, newest first: `q` in the version, its registrant or
    its description; status; day registered."""
    queryset = version_list(user, model)
    if f.q:
        queryset = queryset.filter(
            Q(version__icontains=f.q) | Q(registered_by__username__icontains=f.q) | Q(description__icontains=f.q)
        )
    if f.state:
        queryset = queryset.filter(status=f.state)
    return _dated(queryset, "registered_at", f).order_by("-registered_at", "-pk")
