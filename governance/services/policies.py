"""The policies a model is judged by, each set by its owner or a compliance officer and logged
as `policy.set`: metric thresholds (for the promotion gate and live performance), the monitoring
policy (observation cadence, drift bounds, volume floor) and the retraining policy (its rules).

A new setting supersedes the current one (`superseded_at`): earlier settings stay on record, so
the thresholds in force on any date, and when they were fixed, can be shown to an auditor.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.models import MetricThreshold, MonitoringPolicy, RegisteredModel, RetrainingPolicy
from governance.records import rfc3339
from governance.results import Written
from governance.validation import Errors

MAX_THRESHOLDS = 200
# A drift rule looks at no more windows than this, whatever the policy says.
MAX_DRIFT_WINDOWS = 100
# The largest minimum volume per window (far above any real window; the column is a bigint).
MAX_MIN_VOLUME = 10**12
MAX_AGE_DAYS = 36_500


def threshold_record(threshold: MetricThreshold) -> dict[str, str]:
    return {
        "metric": threshold.metric,
        "slice": threshold.slice,
        "operator": threshold.operator,
        "value": threshold.value,
    }


@transaction.atomic
def thresholds_set(
    *, actor: AbstractBaseUser, model: RegisteredModel, thresholds: list[dict[str, str]]
) -> Written[list[MetricThreshold]]:
    """Replace the model's metric thresholds with `thresholds`, log `policy.set`, and return
    the new rows and the event's key.

    Each is {"metric", "operator" (min|max), "value" (decimal string), "slice" (optional)}; an
    empty list clears them. The previous set is kept, superseded. Only the model's owner and
    compliance officers set thresholds.
    """
    access.require(actor, "oversee", model)
    errors = Errors()
    if not isinstance(thresholds, list) or len(thresholds) > MAX_THRESHOLDS:
        errors.add("thresholds", f"A list of at most {MAX_THRESHOLDS} thresholds.")
        errors.raise_if_any()
    seen = set()
    for index, item in enumerate(thresholds):
        field = f"thresholds[{index}]"
        if not isinstance(item, dict) or set(item) - {"metric", "slice", "operator", "value"}:
            errors.add(field, "An object with metric, operator, value and optionally slice.")
            continue
        errors.text(item.get("metric"), f"{field}.metric", limit=100)
        errors.text(item.get("slice", ""), f"{field}.slice", limit=200, required=False)
        errors.check(
            item.get("operator") in MetricThreshold.Operator.values,
            f"{field}.operator",
            "min (the metric must be at least the value) or max (at most).",
        )
        errors.decimal(item.get("value"), f"{field}.value")
        identity = (item.get("metric"), item.get("slice", ""), item.get("operator"))
        errors.check(identity not in seen, field, "The same metric, slice and operator appear twice.")
        seen.add(identity)
    errors.raise_if_any()
    now = timezone.now()
    key = f"policy.set:{uuid.uuid4()}"
    MetricThreshold.objects.filter(model=model, superseded_at__isnull=True).update(superseded_at=now)
    rows = MetricThreshold.objects.bulk_create(
        [
            MetricThreshold(
                model=model,
                metric=item["metric"],
                slice=item.get("slice", ""),
                operator=item["operator"],
                value=item["value"],
                set_by=actor,
                set_at=now,
                ledger_key=key,
            )
            for item in thresholds
        ]
    )
    events.record(
        type="policy.set",
        actor=actor,
        subject=f"model:{model.slug}",
        key=key,
        data={
            "model": model.slug,
            "policy": "thresholds",
            "set_at": rfc3339(now),
            "thresholds": [threshold_record(row) for row in rows],
        },
    )
    return Written(rows, key)


def monitoring_policy_record(policy: MonitoringPolicy) -> dict[str, Any]:
    return {
        "model": policy.model.slug,
        "policy": "monitoring",
        "expected_interval_minutes": policy.expected_interval_minutes,
        "psi_threshold": policy.psi_threshold,
        "ks_threshold": policy.ks_threshold,
        "min_volume": policy.min_volume,
        "set_at": rfc3339(policy.set_at),
    }


@transaction.atomic
def monitoring_policy_set(
    *,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    expected_interval_minutes: int,
    psi_threshold: str,
    ks_threshold: str,
    min_volume: int | None = None,
) -> MonitoringPolicy:
    """Set how the model is watched (superseding the current policy) and log `policy.set`."""
    access.require(actor, "oversee", model)
    errors = Errors()
    errors.check(
        isinstance(expected_interval_minutes, int) and 1 <= expected_interval_minutes <= 525_600,
        "expected_interval_minutes",
        "Minutes between observations, from 1 to 525,600 (a year).",
    )
    errors.decimal(psi_threshold, "psi_threshold")
    errors.decimal(ks_threshold, "ks_threshold")
    errors.check(
        min_volume is None or (isinstance(min_volume, int) and 0 <= min_volume <= MAX_MIN_VOLUME),
        "min_volume",
        f"An integer from 0 to {MAX_MIN_VOLUME:,}, or null for no volume check.",
    )
    errors.raise_if_any()
    now = timezone.now()
    MonitoringPolicy.objects.filter(model=model, superseded_at__isnull=True).update(superseded_at=now)
    policy = MonitoringPolicy.objects.create(
        model=model,
        expected_interval_minutes=expected_interval_minutes,
        psi_threshold=psi_threshold,
        ks_threshold=ks_threshold,
        min_volume=min_volume,
        set_by=actor,
        set_at=now,
        ledger_key=f"policy.set:{uuid.uuid4()}",
    )
    events.record(
        type="policy.set",
        actor=actor,
        subject=f"model:{model.slug}",
        key=policy.ledger_key,
        data=monitoring_policy_record(policy),
    )
    return policy


def retraining_policy_record(policy: RetrainingPolicy) -> dict[str, Any]:
    return {
        "model": policy.model.slug,
        "policy": "retraining",
        "drift_windows": policy.drift_windows,
        "accuracy_metric": policy.accuracy_metric,
        "accuracy_floor": policy.accuracy_floor,
        "max_age_days": policy.max_age_days,
        "new_data_uri_prefix": policy.new_data_uri_prefix,
        "set_at": rfc3339(policy.set_at),
    }


@transaction.atomic
def retraining_policy_set(
    *,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    drift_windows: int | None = None,
    accuracy_metric: str = "",
    accuracy_floor: str = "",
    max_age_days: int | None = None,
    new_data_uri_prefix: str = "",
) -> RetrainingPolicy:
    """Set when the model asks for retraining (superseding the current policy); log `policy.set`.

    At least one rule must be on. Only the model's owner and compliance officers set it.
    """
    access.require(actor, "oversee", model)
    errors = Errors()
    errors.check(
        drift_windows is None or (isinstance(drift_windows, int) and 1 <= drift_windows <= MAX_DRIFT_WINDOWS),
        "drift_windows",
        f"Consecutive windows, from 1 to {MAX_DRIFT_WINDOWS}, or null.",
    )
    errors.text(accuracy_metric, "accuracy_metric", limit=100, required=False)
    if accuracy_floor:
        errors.decimal(accuracy_floor, "accuracy_floor")
        errors.check(bool(accuracy_metric), "accuracy_metric", "Name the metric the floor applies to, e.g. auc.")
    errors.check(
        max_age_days is None or (isinstance(max_age_days, int) and 1 <= max_age_days <= MAX_AGE_DAYS),
        "max_age_days",
        f"Days from 1 to {MAX_AGE_DAYS:,}, or null.",
    )
    errors.text(new_data_uri_prefix, "new_data_uri_prefix", limit=1000, required=False)
    errors.check(
        any((drift_windows, accuracy_floor, max_age_days, new_data_uri_prefix)),
        "non_field_errors",
        "Turn on at least one rule: drift_windows, accuracy_floor, max_age_days or new_data_uri_prefix.",
    )
    errors.raise_if_any()
    now = timezone.now()
    RetrainingPolicy.objects.filter(model=model, superseded_at__isnull=True).update(superseded_at=now)
    policy = RetrainingPolicy.objects.create(
        model=model,
        drift_windows=drift_windows,
        accuracy_metric=accuracy_metric if accuracy_floor else "",
        accuracy_floor=accuracy_floor,
        max_age_days=max_age_days,
        new_data_uri_prefix=new_data_uri_prefix,
        set_by=actor,
        set_at=now,
        ledger_key=f"policy.set:{uuid.uuid4()}",
    )
    events.record(
        type="policy.set",
        actor=actor,
        subject=f"model:{model.slug}",
        key=policy.ledger_key,
        data=retraining_policy_record(policy),
    )
    return policy
