"""Retraining triggers: a per-model policy, the job that fires it, and the request it raises.

When a rule of the policy is met the model gets a retraining request (a change request in the
Annex IV 2(f) sense: which rule fired and on what evidence), logged as `retraining.requested`
and sent to the pipeline's webhook. A model has at most one open request; it closes when the
pipeline registers a version that references it (`retraining.closed`). After a close, a rule
fires again only on evidence newer than that close, so one episode raises one request.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import events
from governance.conf import production_environments
from governance.errors import Conflict, InvalidInput
from governance.models import (
    Dataset,
    Deployment,
    ModelVersion,
    Observation,
    RegisteredModel,
    RetrainingPolicy,
    RetrainingRequest,
)
from governance.records import rfc3339
from governance.services import notifications
from governance.services.monitoring import DRIFT_KINDS


def request_record(request: RetrainingRequest) -> dict[str, Any]:
    return {
        "request": request.pk,
        "model": request.model.slug,
        "version": request.version.version if request.version_id else None,
        "rule": request.rule,
        "details": request.details,
        "opened_at": rfc3339(request.opened_at),
    }


@transaction.atomic
def retraining_request_open(
    *, model: RegisteredModel, rule: str, details: dict[str, Any], version: ModelVersion | None = None
) -> tuple[RetrainingRequest, bool]:
    """Open a retraining request and log `retraining.requested`; return (request, created).

    While the model has an open request, return it and write nothing (duplicate suppressed).
    """
    existing = RetrainingRequest.objects.filter(model=model, state=RetrainingRequest.State.OPEN).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():  # a savepoint: a concurrent run may open it first
            request = RetrainingRequest.objects.create(
                model=model,
                version=version,
                rule=rule,
                details=details,
                opened_at=timezone.now(),
                ledger_key=f"retraining.requested:{uuid.uuid4()}",
            )
    except IntegrityError:
        return RetrainingRequest.objects.get(model=model, state=RetrainingRequest.State.OPEN), False
    data = request_record(request)
    events.record(
        type="retraining.requested", actor=None, subject=f"model:{model.slug}", key=request.ledger_key, data=data
    )
    notifications.notify(
        event="retraining.requested",
        key=request.ledger_key,
        model=model,
        data=data,
        email_to=notifications.recipients(include=[model.owner]),
        subject=f"[{model.slug}] Retraining requested ({request.get_rule_display().lower()})",
        text=f"A retraining request was opened for {model.slug}: {request.get_rule_display()}.\n"
        f"Register the new version with retraining_request={request.pk} to close it.",
    )
    return request, True


@transaction.atomic
def retraining_close_for_version(
    *, actor: AbstractBaseUser, version: ModelVersion, request_id: int
) -> RetrainingRequest:
    """Close the model's open request `request_id`, answered by the newly registered `version`,
    and log `retraining.closed`. Call inside the registration's transaction (its caller checked
    the actor may register versions). Raise InvalidInput (no such request for the model) or
    Conflict (already closed).
    """
    request = (
        RetrainingRequest.objects.select_for_update()
        .filter(pk=request_id, model_id=version.model_id)
        .select_related("model")
        .first()
        if isinstance(request_id, int)
        else None
    )
    if request is None:
        raise InvalidInput(
            "No such retraining request for this model.",
            errors={"retraining_request": [f"Model {version.model.slug} has no request {request_id!r}."]},
        )
    if request.state != RetrainingRequest.State.OPEN:
        raise Conflict(
            f"Retraining request {request.pk} is already closed.",
            errors={"retraining_request": ["Closed."]},
        )
    request.state, request.closed_at, request.closed_by_version = (
        RetrainingRequest.State.CLOSED,
        timezone.now(),
        version,
    )
    request.close_ledger_key = f"retraining.closed:{request.pk}"
    request.save(update_fields=["state", "closed_at", "closed_by_version", "close_ledger_key"])
    data = {
        "request": request.pk,
        "model": request.model.slug,
        "rule": request.rule,
        "requested": request.ledger_key,
        "version": version.version,
        "closed_at": rfc3339(request.closed_at),
    }
    events.record(
        type="retraining.closed",
        actor=actor,
        subject=f"model:{request.model.slug}",
        key=request.close_ledger_key,
        data=data,
    )
    notifications.notify(event="retraining.closed", key=request.close_ledger_key, model=request.model, data=data)
    return request


# --- The rules -----------------------------------------------------------------------------------
def _drift(policy: RetrainingPolicy, serving: Deployment, since: datetime | None) -> dict[str, Any] | None:
    """Fire when the latest `drift_windows` judged drift windows of the serving version all
    breached (any feature in a window counts), each ending after `since`."""
    n = policy.drift_windows
    observations = Observation.objects.filter(
        deployment=serving, kind__in=DRIFT_KINDS, evaluated_at__isnull=False
    ).order_by("-window_end")
    windows: dict[tuple[datetime, datetime], list[str]] = {}
    for start, end, feature, breached in observations.values_list("window_start", "window_end", "feature", "breached"):
        if (start, end) not in windows and len(windows) == n:
            break
        drifted = windows.setdefault((start, end), [])
        if breached:
            drifted.append(feature or "prediction")
    if len(windows) < n or not all(windows.values()):
        return None
    if since is not None and min(end for _, end in windows) <= since:
        return None
    return {
        "drift_windows": n,
        "windows": [
            {"window_start": rfc3339(start), "window_end": rfc3339(end), "drifted": sorted(set(features))}
            for (start, end), features in sorted(windows.items())
        ],
    }


def _accuracy(policy: RetrainingPolicy, serving: Deployment, since: datetime | None) -> dict[str, Any] | None:
    """Fire when the latest live value of the policy's metric is under the floor."""
    latest = (
        Observation.objects.filter(
            deployment=serving, kind=Observation.Kind.PERFORMANCE, metric=policy.accuracy_metric, slice=""
        )
        .order_by("-window_end", "-pk")
        .first()
    )
    if latest is None or (since is not None and latest.posted_at <= since):
        return None
    if Decimal(latest.value) >= Decimal(policy.accuracy_floor):
        return None
    return {
        "metric": policy.accuracy_metric,
        "value": latest.value,
        "floor": policy.accuracy_floor,
        "window_end": rfc3339(latest.window_end),
        "observation": latest.ledger_key,
    }


def _age(
    policy: RetrainingPolicy, serving: Deployment, since: datetime | None, now: datetime
) -> dict[str, Any] | None:
    """Fire when the serving version (and the last request) are older than `max_age_days`."""
    limit = timedelta(days=policy.max_age_days)
    registered = serving.version.registered_at
    if now - registered <= limit or (since is not None and now - since <= limit):
        return None
    return {
        "registered_at": rfc3339(registered),
        "age_days": (now - registered).days,
        "max_age_days": policy.max_age_days,
    }


def _new_data(policy: RetrainingPolicy, model: RegisteredModel, since: datetime | None) -> dict[str, Any] | None:
    """Fire when datasets under the policy's URI prefix were registered after the model's newest
    version (and the last request) and no version of the model uses them yet."""
    newest = model.versions.order_by("-registered_at").values_list("registered_at", flat=True).first()
    fresh = Dataset.objects.filter(uri__startswith=policy.new_data_uri_prefix).exclude(versions__model=model)
    for moment in (newest, since):
        if moment is not None:
            fresh = fresh.filter(registered_at__gt=moment)
    found = list(fresh.order_by("registered_at")[:20])
    if not found:
        return None
    return {
        "datasets": [{"name": d.name, "sha256": d.sha256, "registered_at": rfc3339(d.registered_at)} for d in found]
    }


def retraining_evaluate() -> list[RetrainingRequest]:
    """Check every model's retraining policy; open a request for each model whose rule fired.

    Rules are tried in order (drift, accuracy, age, new data); the first that fires is the
    request's rule. Models with an open request are skipped. Return the requests opened now.
    """
    now = timezone.now()
    opened = []
    policies = RetrainingPolicy.objects.filter(superseded_at__isnull=True).select_related("model__owner")
    for policy in policies.order_by("model__slug"):
        model = policy.model
        if model.retraining_requests.filter(state=RetrainingRequest.State.OPEN).exists():
            continue
        since = (
            model.retraining_requests.filter(state=RetrainingRequest.State.CLOSED)
            .order_by("-closed_at")
            .values_list("closed_at", flat=True)
            .first()
        )
        serving = (
            Deployment.objects.filter(model=model, ended_at__isnull=True, environment__in=production_environments())
            .select_related("version")
            .order_by("-started_at")
            .first()
        )
        fired: tuple[str, dict[str, Any]] | None = None
        if serving is not None and policy.drift_windows and (details := _drift(policy, serving, since)):
            fired = (RetrainingRequest.Rule.DRIFT, details)
        elif serving is not None and policy.accuracy_floor and (details := _accuracy(policy, serving, since)):
            fired = (RetrainingRequest.Rule.ACCURACY, details)
        elif serving is not None and policy.max_age_days and (details := _age(policy, serving, since, now)):
            fired = (RetrainingRequest.Rule.AGE, details)
        elif policy.new_data_uri_prefix and (details := _new_data(policy, model, since)):
            fired = (RetrainingRequest.Rule.NEW_DATA, details)
        if fired is None:
            continue
        rule, details = fired
        details = {**details, "environment": serving.environment if serving else None}
        request, created = retraining_request_open(
            model=model, rule=rule, details=details, version=serving.version if serving else None
        )
        if created:
            opened.append(request)
    return opened
