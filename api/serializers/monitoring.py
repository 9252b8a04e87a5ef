"""Serializers for gates, CI evidence, thresholds and policies, observations, alerts,
retraining requests, webhooks and deliveries."""

from __future__ import annotations

from rest_framework import serializers

from api.schema import text_given, value_given
from api.serializers.fields import secret_field, web_url
from governance.models import (
    Alert,
    CiEvidence,
    Delivery,
    MetricThreshold,
    MonitoringPolicy,
    Observation,
    RetrainingPolicy,
    RetrainingRequest,
    Webhook,
)
from governance.services import policies
from governance.services.notifications import EVENTS

DECIMAL = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"


class DecimalStringField(serializers.RegexField):
    """A decimal carried as a JSON string, as ledger events carry it: a JSON number is refused
    rather than converted, since its float value may already have lost digits."""

    default_error_messages = {"invalid": 'A decimal string such as "0.25" (a string, never a JSON number).'}

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("help_text", 'A decimal string such as "0.25".')
        super().__init__(DECIMAL, max_length=40, **kwargs)

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def decimal_string(**kwargs: object) -> DecimalStringField:
    return DecimalStringField(**kwargs)


# --- Gates ---------------------------------------------------------------------------------------
class GateSerializer(serializers.Serializer):
    gate = serializers.CharField()
    title = serializers.CharField()
    required = serializers.BooleanField()
    status = serializers.ChoiceField(["pass", "fail", "waived"])
    passed = serializers.BooleanField()
    reason = serializers.CharField()
    evidence = serializers.DictField()


class GateReportSerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.CharField()
    environment = serializers.CharField()
    production = serializers.BooleanField(help_text="Whether a failing gate blocks deployment here.")
    risk_tier = serializers.CharField()
    passed = serializers.BooleanField(help_text="True when no gate fails.")
    failing = serializers.ListField(child=serializers.CharField())
    evaluated_at = serializers.CharField()
    gates = GateSerializer(many=True)


class CiEvidenceInSerializer(serializers.Serializer):
    run_id = serializers.CharField(max_length=200)
    report = serializers.CharField(
        trim_whitespace=False,
        help_text="The JUnit XML test report (testsuite or testsuites), parsed on the server: the run passes "
        "only when it ran tests and none failed or errored. Its SHA-256 is of these UTF-8 bytes.",
    )
    test_report_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False, help_text="Optional: the report's SHA-256, checked against the report."
    )
    url = web_url(required=False, allow_blank=True, default="")


class CiEvidenceOutSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="version.version")
    posted_by = serializers.CharField(source="posted_by.username")

    class Meta:
        model = CiEvidence
        fields = [
            "version",
            "run_id",
            "url",
            "test_report_sha256",
            "passed",
            "tests",
            "failures",
            "errors",
            "skipped",
            "posted_by",
            "posted_at",
            "ledger_key",
        ]


# --- Thresholds and policies ---------------------------------------------------------------------
class ThresholdSerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=100)
    slice = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    operator = serializers.ChoiceField(MetricThreshold.Operator.choices)
    value = decimal_string()


class ThresholdsInSerializer(serializers.Serializer):
    thresholds = ThresholdSerializer(many=True, max_length=200)


class ThresholdOutSerializer(serializers.ModelSerializer):
    set_by = serializers.CharField(source="set_by.username")

    class Meta:
        model = MetricThreshold
        fields = ["metric", "slice", "operator", "value", "set_by", "set_at", "ledger_key"]


class MonitoringPolicyInSerializer(serializers.Serializer):
    expected_interval_minutes = serializers.IntegerField(min_value=1, max_value=525_600)
    psi_threshold = decimal_string()
    ks_threshold = decimal_string()
    min_volume = serializers.IntegerField(
        min_value=0, max_value=policies.MAX_MIN_VOLUME, required=False, allow_null=True, default=None
    )


class MonitoringPolicyOutSerializer(serializers.ModelSerializer):
    set_by = serializers.CharField(source="set_by.username")

    class Meta:
        model = MonitoringPolicy
        fields = [
            "expected_interval_minutes",
            "psi_threshold",
            "ks_threshold",
            "min_volume",
            "set_by",
            "set_at",
            "ledger_key",
        ]


class RetrainingPolicyInSerializer(serializers.Serializer):
    drift_windows = serializers.IntegerField(
        min_value=1, max_value=policies.MAX_DRIFT_WINDOWS, required=False, allow_null=True, default=None
    )
    accuracy_metric = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    accuracy_floor = decimal_string(required=False, allow_blank=True, default="")
    max_age_days = serializers.IntegerField(
        min_value=1, max_value=policies.MAX_AGE_DAYS, required=False, allow_null=True, default=None
    )
    new_data_uri_prefix = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    # At least one rule is on, and a floor names its metric.
    body_required = True
    schema_rules = {
        "allOf": [
            {
                "anyOf": [value_given(name, "integer") for name in ("drift_windows", "max_age_days")]
                + [text_given(name) for name in ("accuracy_floor", "new_data_uri_prefix")]
            },
            {"anyOf": [{"properties": {"accuracy_floor": {"maxLength": 0}}}, text_given("accuracy_metric")]},
        ]
    }


class RetrainingPolicyOutSerializer(serializers.ModelSerializer):
    set_by = serializers.CharField(source="set_by.username")

    class Meta:
        model = RetrainingPolicy
        fields = [
            "drift_windows",
            "accuracy_metric",
            "accuracy_floor",
            "max_age_days",
            "new_data_uri_prefix",
            "set_by",
            "set_at",
            "ledger_key",
        ]


# --- Observations --------------------------------------------------------------------------------
class BinsSerializer(serializers.Serializer):
    reference = serializers.ListField(child=serializers.IntegerField(min_value=0), min_length=2, max_length=1000)
    live = serializers.ListField(child=serializers.IntegerField(min_value=0), min_length=2, max_length=1000)
    edges = serializers.ListField(child=decimal_string(), required=False, max_length=1001)


class ObservationInSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=64)
    environment = serializers.CharField(max_length=50, required=False, default="production")
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    kind = serializers.ChoiceField(Observation.Kind.choices)
    feature = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metric = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    slice = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    value = decimal_string(required=False, allow_blank=True, default="")
    psi = decimal_string(required=False, allow_blank=True, default="")
    ks = decimal_string(required=False, allow_blank=True, default="")
    count = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    bins = BinsSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Reference and live counts over the same bins; the server computes PSI and KS.",
    )


class ObservationBatchInSerializer(serializers.Serializer):
    observations = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000)


class ObservationOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version")
    environment = serializers.CharField(source="deployment.environment")
    posted_by = serializers.CharField(source="posted_by.username")
    alert = serializers.IntegerField(source="alert_id", allow_null=True)

    class Meta:
        model = Observation
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "window_start",
            "window_end",
            "kind",
            "feature",
            "metric",
            "slice",
            "value",
            "psi",
            "ks",
            "count",
            "bins",
            "posted_by",
            "posted_at",
            "evaluated_at",
            "breached",
            "judged_against",
            "alert",
            "ledger_key",
        ]


# --- Alerts and retraining -----------------------------------------------------------------------
class AlertOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version", default=None, allow_null=True)
    environment = serializers.CharField(source="deployment.environment", default=None, allow_null=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None, allow_null=True)
    resolved_by = serializers.CharField(source="resolved_by.username", default=None, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "kind",
            "state",
            "summary",
            "details",
            "opened_at",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_note",
            "resolved_by",
            "resolved_at",
            "resolution_note",
            "ledger_key",
        ]


class AlertAcknowledgeInSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class AlertResolveInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=10_000, help_text="What was done about it.")


class RetrainingRequestOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version", default=None, allow_null=True)
    closed_by_version = serializers.CharField(source="closed_by_version.version", default=None, allow_null=True)

    class Meta:
        model = RetrainingRequest
        fields = [
            "id",
            "model",
            "version",
            "rule",
            "details",
            "state",
            "opened_at",
            "closed_at",
            "closed_by_version",
            "ledger_key",
            "close_ledger_key",
        ]


# --- Webhooks ------------------------------------------------------------------------------------
class WebhookSubscriptionInSerializer(serializers.Serializer):
    url = web_url()
    secret = secret_field(
        min_length=16,
        max_length=200,
        help_text="Shared secret for the X-Ledger-Signature HMAC; never shown again.",
    )
    events = serializers.ListField(child=serializers.ChoiceField(EVENTS), min_length=1)
    model = serializers.CharField(
        max_length=100, required=False, allow_null=True, default=None, help_text="A model slug; empty for all."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookSubscriptionUpdateSerializer(serializers.Serializer):
    url = web_url(required=False)
    secret = secret_field(min_length=16, max_length=200, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(EVENTS), min_length=1, required=False)
    active = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body_required, schema_rules = True, {"minProperties": 1}  # at least one field to change


class WebhookSubscriptionOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug", default=None, allow_null=True)
    url = serializers.CharField()  # as stored (WEB_URL_REGEX), which is wider than the `uri` format
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = Webhook
        fields = ["id", "model", "url", "events", "active", "description", "created_by", "created_at"]


class DeliveryOutSerializer(serializers.ModelSerializer):
    webhook = serializers.IntegerField(source="webhook_id", allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "webhook",
            "recipients",
            "event",
            "event_key",
            "body_sha256",
            "state",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "attempts_log",
            "created_at",
            "delivered_at",
        ]


# --- Status --------------------------------------------------------------------------------------
class ServingSerializer(serializers.Serializer):
    environment = serializers.CharField(source="deployment.environment")
    production = serializers.BooleanField()
    version = serializers.CharField(source="deployment.version.version")
    deployment = serializers.IntegerField(source="deployment.pk")
    started_at = serializers.DateTimeField(source="deployment.started_at")
    deployed_by = serializers.CharField(source="deployment.deployed_by.username")
    rollback_of = serializers.CharField(source="deployment.rollback_of.version.version", default=None, allow_null=True)
    gates_passed = serializers.BooleanField(source="gates.passed")
    failing_gates = serializers.ListField(source="gates.failing", child=serializers.CharField())
    last_observation = ObservationOutSerializer(allow_null=True)


class ModelStatusSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.slug")
    risk_tier = serializers.CharField(source="model.risk_tier")
    owner = serializers.CharField(source="model.owner.username")
    owner_active = serializers.BooleanField(source="model.owner.is_active")
    runbook = serializers.CharField(source="model.runbook")
    serving = ServingSerializer(many=True)
    open_alerts = AlertOutSerializer(many=True)
    last_observation = ObservationOutSerializer(allow_null=True)
    retraining_request = RetrainingRequestOutSerializer(allow_null=True)
    next_validation_due = serializers.DateField(allow_null=True)
