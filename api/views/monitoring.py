"""Production gates, CI evidence, thresholds and policies, monitoring observations, alerts,
retraining requests, the per-model status, and webhooks with their delivery log."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import bad_request
from api.receipts import receipts, wants_checkpoint
from api.serializers.monitoring import (
    AlertAcknowledgeInSerializer,
    AlertOutSerializer,
    AlertResolveInSerializer,
    CiEvidenceInSerializer,
    CiEvidenceOutSerializer,
    DeliveryOutSerializer,
    GateReportSerializer,
    ModelStatusSerializer,
    MonitoringPolicyInSerializer,
    MonitoringPolicyOutSerializer,
    ObservationBatchInSerializer,
    ObservationInSerializer,
    ObservationOutSerializer,
    RetrainingPolicyInSerializer,
    RetrainingPolicyOutSerializer,
    RetrainingRequestOutSerializer,
    ThresholdOutSerializer,
    ThresholdsInSerializer,
    WebhookSubscriptionInSerializer,
    WebhookSubscriptionOutSerializer,
    WebhookSubscriptionUpdateSerializer,
)
from api.views.base import GovernanceListView, GovernanceView, parse_batch, written
from governance import selectors
from governance.errors import NotVisible
from governance.models import Alert, Delivery, Observation
from governance.selectors import gates as gate_selectors
from governance.selectors import monitoring as gov_status
from governance.services import alerts, ci_evidence, monitoring, notifications, policies
from governance.validation import ENVIRONMENT_PATTERN, SLUG_RE


# --- Filters -------------------------------------------------------------------------------------
class AlertFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="model__slug")
    version = django_filters.CharFilter(field_name="version__version")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")

    class Meta:
        model = Alert
        fields = ["state", "kind", "model", "version", "opened_after"]


class ObservationFilter(django_filters.FilterSet):
    version = django_filters.CharFilter(field_name="version__version")
    window_after = django_filters.IsoDateTimeFilter(field_name="window_end", lookup_expr="gte")
    window_before = django_filters.IsoDateTimeFilter(field_name="window_start", lookup_expr="lt")

    class Meta:
        model = Observation
        fields = ["version", "kind", "feature", "metric", "breached", "window_after", "window_before"]


class DeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["state", "channel", "event"]


# --- Gates and CI evidence -----------------------------------------------------------------------
class GatesView(GovernanceView):
    @extend_schema(
        summary="Every production gate of a version: pass, fail or waived, with reason and evidence",
        parameters=[
            OpenApiParameter(
                "environment",
                str,
                pattern=ENVIRONMENT_PATTERN,
                description="The target environment (default production); only production ones block.",
            )
        ],
        responses=GateReportSerializer,
    )
    def get(self, request: Request, slug: str, version: str) -> Response:
        row = selectors.version_get(request.user, slug, version)
        environment = request.query_params.get("environment") or "production"
        if not SLUG_RE.match(environment) or len(environment) > 50:
            raise bad_request("`environment` is a short lowercase name such as production.", field="environment")
        report = gate_selectors.gates_evaluate(version=row, environment=environment)
        return Response(GateReportSerializer(report).data)


class CiEvidenceView(GovernanceListView):
    @extend_schema(
        summary="CI test reports posted for a version, newest first", responses=CiEvidenceOutSerializer(many=True)
    )
    def get(self, request: Request, slug: str, version: str) -> Response:
        row = selectors.version_get(request.user, slug, version)
        return self.paginate(gov_status.ci_evidence_list(row), CiEvidenceOutSerializer)

    @extend_schema(
        summary="Post a CI run's test report hash and outcome (pipelines granted register)",
        request=CiEvidenceInSerializer,
        responses={201: CiEvidenceOutSerializer},
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        row = self.authorize("register", selectors.version_get(request.user, slug, version))
        data = self.parse(CiEvidenceInSerializer)
        report = data.pop("report").encode("utf-8")
        evidence = ci_evidence.ci_evidence_post(actor=request.user, version=row, report=report, **data)
        return written(request, CiEvidenceOutSerializer(evidence).data, evidence.ledger_key)


# --- Thresholds and policies ---------------------------------------------------------------------
ThresholdList = inline_serializer("Thresholds", {"thresholds": ThresholdOutSerializer(many=True)})


class ThresholdsView(GovernanceView):
    @extend_schema(summary="The model's current metric thresholds", responses=ThresholdList)
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        rows = gov_status.thresholds_current(model)
        return Response({"thresholds": ThresholdOutSerializer(rows, many=True).data})

    @extend_schema(
        summary="Replace the model's metric thresholds (owner, compliance officers)",
        request=ThresholdsInSerializer,
        responses=ThresholdList,
    )
    def put(self, request: Request, slug: str) -> Response:
        model = self.authorize("oversee", selectors.model_get(request.user, slug))
        items = [dict(item) for item in self.parse(ThresholdsInSerializer)["thresholds"]]
        result = policies.thresholds_set(actor=request.user, model=model, thresholds=items)
        data = {"thresholds": ThresholdOutSerializer(result.record, many=True).data}
        return written(request, data, result.ledger_key, status.HTTP_200_OK)


class MonitoringPolicyView(GovernanceView):
    @extend_schema(summary="The model's monitoring policy", responses=MonitoringPolicyOutSerializer)
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        policy = gov_status.monitoring_policy_current(model)
        if policy is None:
            raise NotVisible(f"{slug} has no monitoring policy.")
        return Response(MonitoringPolicyOutSerializer(policy).data)

    @extend_schema(
        summary="Set the monitoring policy (owner, compliance officers)",
        request=MonitoringPolicyInSerializer,
        responses=MonitoringPolicyOutSerializer,
    )
    def put(self, request: Request, slug: str) -> Response:
        model = self.authorize("oversee", selectors.model_get(request.user, slug))
        policy = policies.monitoring_policy_set(
            actor=request.user, model=model, **self.parse(MonitoringPolicyInSerializer)
        )
        return written(request, MonitoringPolicyOutSerializer(policy).data, policy.ledger_key, status.HTTP_200_OK)


class RetrainingPolicyView(GovernanceView):
    @extend_schema(summary="The model's retraining policy", responses=RetrainingPolicyOutSerializer)
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        policy = gov_status.retraining_policy_current(model)
        if policy is None:
            raise NotVisible(f"{slug} has no retraining policy.")
        return Response(RetrainingPolicyOutSerializer(policy).data)

    @extend_schema(
        summary="Set the retraining policy (owner, compliance officers)",
        request=RetrainingPolicyInSerializer,
        responses=RetrainingPolicyOutSerializer,
    )
    def put(self, request: Request, slug: str) -> Response:
        model = self.authorize("oversee", selectors.model_get(request.user, slug))
        policy = policies.retraining_policy_set(
            actor=request.user, model=model, **self.parse(RetrainingPolicyInSerializer)
        )
        return written(request, RetrainingPolicyOutSerializer(policy).data, policy.ledger_key, status.HTTP_200_OK)


# --- Observations --------------------------------------------------------------------------------
def _tidy_observation(data: dict[str, Any]) -> dict[str, Any]:
    if data["bins"] is not None:
        data["bins"] = {key: list(value) for key, value in data["bins"].items()}
    return data


class ObservationListView(GovernanceListView):
    filterset_class = ObservationFilter

    @extend_schema(
        summary="Monitoring observations of a model, newest window first",
        responses=ObservationOutSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return self.paginate(gov_status.observation_list(request.user, model), ObservationOutSerializer)

    @extend_schema(
        summary="Post one observation, or {observations: [...]} (up to 1,000, all or nothing)",
        request=ObservationInSerializer,
        responses={
            201: ObservationOutSerializer,
            200: inline_serializer(
                "ObservationBatchResult",
                {
                    "created": serializers.IntegerField(),
                    "observations": serializers.ListField(child=serializers.DictField()),
                },
            ),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        model = self.authorize("log", selectors.model_get(request.user, slug))
        batch = isinstance(request.data, dict) and "observations" in request.data
        raw = self.parse(ObservationBatchInSerializer)["observations"] if batch else [request.data]
        result = monitoring.observation_post_batch(
            actor=request.user,
            model=model,
            items=parse_batch(
                ObservationInSerializer,
                raw,
                refused="Some observations are not valid; none was recorded.",
                tidy=_tidy_observation,
            ),
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        if not batch:
            observation = result.observations[0]
            return written(request, ObservationOutSerializer(observation).data, observation.ledger_key, code)
        proofs = receipts(result.ledger_keys, checkpoint=wants_checkpoint(request))
        body = {
            "created": result.created,
            "observations": [
                {**ObservationOutSerializer(o).data, "receipt": r}
                for o, r in zip(result.observations, proofs, strict=True)
            ],
        }
        return Response(body, status=code)


# --- Alerts and retraining requests --------------------------------------------------------------
class AlertQueueView(GovernanceListView):
    filterset_class = AlertFilter

    @extend_schema(
        summary="Alerts across the models the caller may read (?state=open)", responses=AlertOutSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return self.paginate(gov_status.alert_list(request.user), AlertOutSerializer)


class AlertListView(GovernanceListView):
    filterset_class = AlertFilter

    @extend_schema(summary="Alerts of a model, newest first", responses=AlertOutSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return self.paginate(gov_status.alert_list(request.user, model), AlertOutSerializer)


class AlertDetailView(GovernanceView):
    @extend_schema(summary="One alert", responses=AlertOutSerializer)
    def get(self, request: Request, slug: str, pk: int) -> Response:
        model = selectors.model_get(request.user, slug)
        return Response(AlertOutSerializer(gov_status.alert_get(request.user, model, pk)).data)


class AlertAcknowledgeView(GovernanceView):
    @extend_schema(
        summary="Acknowledge an open alert (owner, compliance officers)",
        request=AlertAcknowledgeInSerializer,
        responses=AlertOutSerializer,
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        model = selectors.model_get(request.user, slug)
        result = alerts.alert_acknowledge(
            actor=request.user,
            alert=self.authorize("oversee", gov_status.alert_get(request.user, model, pk)),
            **self.parse(AlertAcknowledgeInSerializer),
        )
        return written(request, AlertOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


class AlertResolveView(GovernanceView):
    @extend_schema(
        summary="Resolve an acknowledged alert, saying what was done (owner, compliance officers)",
        request=AlertResolveInSerializer,
        responses=AlertOutSerializer,
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        model = selectors.model_get(request.user, slug)
        result = alerts.alert_resolve(
            actor=request.user,
            alert=self.authorize("oversee", gov_status.alert_get(request.user, model, pk)),
            **self.parse(AlertResolveInSerializer),
        )
        return written(request, AlertOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


class RetrainingRequestListView(GovernanceListView):
    @extend_schema(
        summary="Retraining requests of a model, newest first", responses=RetrainingRequestOutSerializer(many=True)
    )
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return self.paginate(gov_status.retraining_request_list(request.user, model), RetrainingRequestOutSerializer)


# --- Status --------------------------------------------------------------------------------------
class ModelStatusView(GovernanceView):
    @extend_schema(
        summary="Where the model serves, its gates, open alerts, last observation, open retraining "
        "request and next validation date",
        responses=ModelStatusSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return Response(ModelStatusSerializer(gov_status.model_status(request.user, model)).data)


# --- Webhooks and deliveries ---------------------------------------------------------------------
class WebhookListView(GovernanceListView):
    @extend_schema(
        summary="Webhooks (compliance officers, admins)", responses=WebhookSubscriptionOutSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return self.paginate(gov_status.webhook_list(request.user), WebhookSubscriptionOutSerializer)

    @extend_schema(
        summary="Subscribe a URL to events, signed with a shared secret",
        request=WebhookSubscriptionInSerializer,
        responses={201: WebhookSubscriptionOutSerializer},
    )
    def post(self, request: Request) -> Response:
        self.authorize("webhooks")
        data = self.parse(WebhookSubscriptionInSerializer)
        slug = data.pop("model")
        model = selectors.model_get(request.user, slug) if slug else None
        webhook = notifications.webhook_create(actor=request.user, model=model, **data)
        return written(
            request, WebhookSubscriptionOutSerializer(webhook).data, notifications.webhook_created_key(webhook)
        )


class WebhookDetailView(GovernanceView):
    @extend_schema(summary="One webhook", responses=WebhookSubscriptionOutSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookSubscriptionOutSerializer(gov_status.webhook_get(request.user, pk)).data)

    @extend_schema(
        summary="Change a webhook",
        request=WebhookSubscriptionUpdateSerializer,
        responses=WebhookSubscriptionOutSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        result = notifications.webhook_update(
            actor=request.user,
            webhook=gov_status.webhook_get(request.user, pk),
            **self.parse(WebhookSubscriptionUpdateSerializer),
        )
        return written(
            request, WebhookSubscriptionOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK
        )

    @extend_schema(
        summary="Delete a webhook (its delivery log stays)", request=None, responses=WebhookSubscriptionOutSerializer
    )
    def delete(self, request: Request, pk: int) -> Response:
        result = notifications.webhook_delete(actor=request.user, webhook=gov_status.webhook_get(request.user, pk))
        return written(
            request, WebhookSubscriptionOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK
        )


class WebhookDeliveryListView(GovernanceListView):
    filterset_class = DeliveryFilter

    @extend_schema(summary="A webhook's delivery log, newest first", responses=DeliveryOutSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        webhook = gov_status.webhook_get(request.user, pk)
        return self.paginate(gov_status.delivery_list(request.user, webhook), DeliveryOutSerializer)


class DeliveryListView(GovernanceListView):
    filterset_class = DeliveryFilter

    @extend_schema(
        summary="Every notification delivery, webhook and email (?channel=email)",
        responses=DeliveryOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return self.paginate(gov_status.delivery_list(request.user), DeliveryOutSerializer)
