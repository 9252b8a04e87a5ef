"""Reads for gates, monitoring and retraining, and the per-model status, each narrowed to what
the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from governance import access
from governance.conf import production_environments
from governance.errors import NotVisible
from governance.models import (
    Alert,
    CiEvidence,
    Delivery,
    Deployment,
    MetricThreshold,
    ModelVersion,
    MonitoringPolicy,
    Observation,
    RegisteredModel,
    RetrainingPolicy,
    RetrainingRequest,
    Webhook,
)
from governance.selectors.gates import GateReport, gates_evaluate


def thresholds_current(model: RegisteredModel) -> QuerySet[MetricThreshold]:
    return MetricThreshold.objects.filter(model=model, superseded_at__isnull=True).select_related("set_by")


def monitoring_policy_current(model: RegisteredModel) -> MonitoringPolicy | None:
    return MonitoringPolicy.objects.filter(model=model, superseded_at__isnull=True).select_related("set_by").first()


def retraining_policy_current(model: RegisteredModel) -> RetrainingPolicy | None:
    return RetrainingPolicy.objects.filter(model=model, superseded_at__isnull=True).select_related("set_by").first()


def ci_evidence_list(version: ModelVersion) -> QuerySet[CiEvidence]:
    return version.ci_evidence.select_related("posted_by").order_by("-posted_at", "-pk")


def alert_list(user: AbstractBaseUser, model: RegisteredModel | None = None) -> QuerySet[Alert]:
    queryset = Alert.objects.select_related(
        "model", "version", "deployment", "acknowledged_by", "resolved_by"
    ).order_by("-opened_at", "-pk")
    if model is not None:
        queryset = queryset.filter(model=model)
    return access.restrict(user, "view", queryset, model_field="model")


def alert_get(user: AbstractBaseUser, model: RegisteredModel, pk: int) -> Alert:
    alert = alert_list(user, model).filter(pk=pk).first()
    if alert is None:
        raise NotVisible(f"{model.slug} has no alert {pk}.")
    return alert


def observation_list(user: AbstractBaseUser, model: RegisteredModel) -> QuerySet[Observation]:
    queryset = (
        Observation.objects.filter(model=model)
        .select_related("model", "version", "deployment", "posted_by", "alert")
        .order_by("-window_end", "-pk")
    )
    return access.restrict(user, "view", queryset, model_field="model")


def retraining_request_list(user: AbstractBaseUser, model: RegisteredModel) -> QuerySet[RetrainingRequest]:
    queryset = (
        RetrainingRequest.objects.filter(model=model)
        .select_related("model", "version", "closed_by_version")
        .order_by("-opened_at", "-pk")
    )
    return access.restrict(user, "view", queryset, model_field="model")


def webhook_list(user: AbstractBaseUser) -> QuerySet[Webhook]:
    """Return the webhooks not deleted; raise Forbidden for anyone but officers and admins."""
    access.require(user, "webhooks")
    return Webhook.objects.filter(deleted_at__isnull=True).select_related("model", "created_by").order_by("pk")


def webhook_get(user: AbstractBaseUser, pk: int) -> Webhook:
    webhook = webhook_list(user).filter(pk=pk).first()
    if webhook is None:
        raise NotVisible(f"No webhook {pk}.")
    return webhook


def delivery_list(user: AbstractBaseUser, webhook: Webhook | None = None) -> QuerySet[Delivery]:
    """Return the delivery log (newest first), of one webhook or of every channel."""
    access.require(user, "webhooks")
    queryset = Delivery.objects.select_related("webhook").order_by("-created_at", "-pk")
    return queryset.filter(webhook=webhook) if webhook is not None else queryset


@dataclass(frozen=True)
class Serving:
    """One environment's current deployment, its gates now, and its latest observation."""

    deployment: Deployment
    production: bool
    gates: GateReport
    last_observation: Observation | None


@dataclass(frozen=True)
class ModelStatus:
    model: RegisteredModel
    serving: list[Serving]
    open_alerts: list[Alert]
    last_observation: Observation | None
    retraining_request: RetrainingRequest | None
    next_validation_due: date | None


def model_status(user: AbstractBaseUser, model: RegisteredModel) -> ModelStatus:
    """Return where the model serves (with each version's gates evaluated now), its unresolved
    alerts, its latest observation, its open retraining request and its next validation date."""
    access.require(user, "view", model)
    production = production_environments()
    deployments = list(
        Deployment.objects.filter(model=model, ended_at__isnull=True)
        .select_related("model", "version", "deployed_by", "rollback_of__version")
        .order_by("environment")
    )
    serving = [
        Serving(
            deployment=deployment,
            production=deployment.environment in production,
            gates=gates_evaluate(version=deployment.version, environment=deployment.environment),
            last_observation=deployment.observations.select_related("version", "deployment")
            .order_by("-posted_at", "-pk")
            .first(),
        )
        for deployment in deployments
    ]
    return ModelStatus(
        model=model,
        serving=serving,
        open_alerts=list(alert_list(user, model).exclude(state=Alert.State.RESOLVED)),
        last_observation=Observation.objects.filter(model=model)
        .select_related("version", "deployment")
        .order_by("-posted_at", "-pk")
        .first(),
        retraining_request=RetrainingRequest.objects.filter(model=model, state=RetrainingRequest.State.OPEN)
        .select_related("model", "version")
        .first(),
        next_validation_due=model.next_validation_due,
    )
