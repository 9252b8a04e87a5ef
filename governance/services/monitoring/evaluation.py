"""The evaluation job: judge each new observation once, open the alerts that follow, and flag
production deployments nobody is observing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance import events
from governance.conf import production_environments
from governance.models import Alert, Deployment, MetricThreshold, MonitoringPolicy, Observation
from governance.records import rfc3339
from governance.selectors.gates import breaches
from governance.services.alerts import alert_open
from governance.services.monitoring.observations import DRIFT_KINDS

# Observations judged per chunk, each chunk one transaction: large enough that the per-query
# cost (Django compiling the wide select_related query) is paid once for many observations,
# small enough that the row locks and the one ledger submission stay short.
EVALUATE_BATCH = 200


@dataclass(frozen=True)
class Evaluation:
    """What one run of the job did."""

    observations: int
    alerts_opened: list[Alert]


@dataclass
class _Judgement:
    breached: bool | None
    against: str
    alert: dict[str, Any] | None = None


class _Policies:
    """The current policy and thresholds of each model, read once per run."""

    def __init__(self) -> None:
        self.monitoring: dict[int, MonitoringPolicy | None] = {}
        self.thresholds: dict[int, list[MetricThreshold]] = {}

    def policy(self, model_id: int) -> MonitoringPolicy | None:
        if model_id not in self.monitoring:
            self.monitoring[model_id] = MonitoringPolicy.objects.filter(
                model_id=model_id, superseded_at__isnull=True
            ).first()
        return self.monitoring[model_id]

    def bounds(self, model_id: int) -> list[MetricThreshold]:
        if model_id not in self.thresholds:
            self.thresholds[model_id] = list(
                MetricThreshold.objects.filter(model_id=model_id, superseded_at__isnull=True)
            )
        return self.thresholds[model_id]


def _judge(observation: Observation, policies: _Policies) -> _Judgement:
    model, version = observation.model, observation.version
    if observation.kind in DRIFT_KINDS:
        policy = policies.policy(model.pk)
        if policy is None:
            return _Judgement(None, "")
        found = []
        for name, bound in (("psi", policy.psi_threshold), ("ks", policy.ks_threshold)):
            value = getattr(observation, name)
            if value and breaches(value, MetricThreshold.Operator.MAX, bound):
                found.append(f"{name.upper()} {value} > {bound}")
        against = f"psi > {policy.psi_threshold} or ks > {policy.ks_threshold}"
        if not found:
            return _Judgement(False, against)
        subject = (
            f"input drift on {observation.feature}"
            if observation.kind == Observation.Kind.FEATURE_DRIFT
            else f"prediction drift{f' on {observation.feature}' if observation.feature else ''}"
        )
        return _Judgement(
            True,
            against,
            {
                "kind": Alert.Kind.DRIFT,
                "dedupe_key": f"drift:{version.pk}:{observation.kind}:{observation.feature}",
                "summary": f"{model.slug} {version.version}: {subject} ({'; '.join(found)}).",
            },
        )
    if observation.kind == Observation.Kind.PERFORMANCE:
        bounds = [
            t for t in policies.bounds(model.pk) if t.metric == observation.metric and t.slice == observation.slice
        ]
        if not bounds:
            return _Judgement(None, "")
        broken = [t for t in bounds if breaches(observation.value, t.operator, t.value)]
        against = " and ".join(f"{t.metric} {'≥' if t.operator == 'min' else '≤'} {t.value}" for t in bounds)
        if not broken:
            return _Judgement(False, against)
        return _Judgement(
            True,
            against,
            {
                "kind": Alert.Kind.ACCURACY,
                "dedupe_key": f"accuracy:{version.pk}:{observation.metric}:{observation.slice}",
                "summary": f"{model.slug} {version.version}: live {observation.metric} {observation.value} "
                f"breaks {against}.",
            },
        )
    policy = policies.policy(model.pk)
    if policy is None or policy.min_volume is None:
        return _Judgement(None, "")
    against = f"count ≥ {policy.min_volume}"
    if observation.count >= policy.min_volume:
        return _Judgement(False, against)
    return _Judgement(
        True,
        against,
        {
            "kind": Alert.Kind.VOLUME,
            "dedupe_key": f"volume:{observation.deployment_id}",
            "summary": f"{model.slug} {version.version}: {observation.count} cases in a window, "
            f"fewer than {policy.min_volume}.",
        },
    )


def _observation_details(observation: Observation) -> dict[str, Any]:
    return {
        "observation": observation.ledger_key,
        "environment": observation.deployment.environment,
        "window_start": rfc3339(observation.window_start),
        "window_end": rfc3339(observation.window_end),
        "kind": observation.kind,
        "feature": observation.feature,
        "metric": observation.metric,
        "slice": observation.slice,
        "value": observation.value,
        "psi": observation.psi,
        "ks": observation.ks,
        "count": observation.count,
        "judged_against": observation.judged_against,
    }


@transaction.atomic
def _evaluate_chunk(after: int, size: int, policies: _Policies) -> tuple[list[int], list[Alert]]:
    """Claim up to `size` unjudged observations past `after` under row locks and judge them.

    Return (pks claimed, alerts opened). Rows a concurrent run holds are skipped: it judges them.
    One locking read, one `bulk_update` and one ledger submission per chunk, whatever its size.
    """
    chunk = list(
        Observation.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(evaluated_at__isnull=True, pk__gt=after)
        .select_related("model", "version", "deployment")
        .order_by("pk")[:size]
    )
    opened = []
    for observation in chunk:
        judgement = _judge(observation, policies)
        observation.evaluated_at = timezone.now()
        observation.breached = judgement.breached
        observation.judged_against = judgement.against[:300]
        if judgement.alert is not None:
            alert, created = alert_open(
                model=observation.model,
                version=observation.version,
                deployment=observation.deployment,
                details=_observation_details(observation),
                **judgement.alert,
            )
            observation.alert = alert
            if created:
                opened.append(alert)
    Observation.objects.bulk_update(chunk, ["evaluated_at", "breached", "judged_against", "alert"])
    events.record_many(
        [
            {
                "type": "monitoring.evaluated",
                "actor": events.actor_name(None),
                "subject": f"model:{observation.model.slug}",
                "idempotency_key": f"monitoring.evaluated:{observation.pk}",
                "data": {
                    "observation": observation.ledger_key,
                    "evaluated_at": rfc3339(observation.evaluated_at),
                    "breached": observation.breached,
                    "judged_against": observation.judged_against,
                    "alert": observation.alert.ledger_key if observation.alert is not None else None,
                },
            }
            for observation in chunk
        ]
    )
    return [observation.pk for observation in chunk], opened


def _unmonitored_check(policies: _Policies) -> list[Alert]:
    now = timezone.now()
    opened = []
    serving = (
        Deployment.objects.filter(ended_at__isnull=True, environment__in=production_environments())
        .select_related("model", "version")
        .annotate(last_posted=Max("observations__posted_at"))
        .order_by("pk")
    )
    for deployment in serving:
        policy = policies.policy(deployment.model_id)
        if policy is None:
            continue
        since = max(deployment.started_at, deployment.last_posted or deployment.started_at)
        interval = timedelta(minutes=policy.expected_interval_minutes)
        if now - since <= interval:
            continue
        model, version = deployment.model, deployment.version
        alert, created = alert_open(
            model=model,
            version=version,
            deployment=deployment,
            kind=Alert.Kind.UNMONITORED,
            dedupe_key=f"unmonitored:{deployment.pk}",
            summary=f"{model.slug} {version.version} in {deployment.environment}: no observation since "
            f"{rfc3339(since)} (expected every {policy.expected_interval_minutes} minutes).",
            details={
                "environment": deployment.environment,
                "last_observation_at": rfc3339(deployment.last_posted),
                "deployed_at": rfc3339(deployment.started_at),
                "expected_interval_minutes": policy.expected_interval_minutes,
                "checked_at": rfc3339(now),
            },
        )
        if created:
            opened.append(alert)
    return opened


def monitoring_evaluate(*, batch_size: int = EVALUATE_BATCH) -> Evaluation:
    """Judge every observation not yet judged and check every production deployment is being
    observed; open the alerts that follow. Safe to run twice at once and any number of times.
    """
    policies = _Policies()
    judged, opened, after = 0, [], 0
    while True:
        pks, alerts = _evaluate_chunk(after, batch_size, policies)
        judged += len(pks)
        opened += alerts
        if len(pks) < batch_size:
            break
        after = pks[-1]
    opened += _unmonitored_check(policies)
    return Evaluation(judged, opened)
