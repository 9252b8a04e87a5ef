"""Serializers for deployments and decisions."""

from __future__ import annotations

from rest_framework import serializers

from api.schema import text_needed_when
from governance.models import Decision, DecisionReview, Deployment
from governance.validation import DECISION_ID_REGEX


class DeploymentInSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=64)
    environment = serializers.CharField(max_length=50)
    change_ticket = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    ci_run_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    config_version = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DeploymentOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version")
    deployed_by = serializers.CharField(source="deployed_by.username")
    rollback_of = serializers.CharField(source="rollback_of.version.version", default=None, allow_null=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "started_at",
            "ended_at",
            "end_reason",
            "deployed_by",
            "rollback_of",
            "change_ticket",
            "ci_run_id",
            "config_version",
            "notes",
            "gates",
            "ledger_key",
        ]


class ReasonCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100)
    text = serializers.CharField(max_length=1000)
    contribution = serializers.RegexField(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$", max_length=40, required=False)


class DecisionInSerializer(serializers.Serializer):
    decision_id = serializers.RegexField(
        DECISION_ID_REGEX,
        max_length=80,
        help_text="The serving system's id: ASCII letters and digits, then also . _ : - (at most 80).",
    )
    version = serializers.CharField(max_length=64)
    occurred_at = serializers.DateTimeField()
    subject_ref = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="A pseudonymous reference, never a name or account number.",
    )
    input_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="SHA-256 of the canonical input.")
    input_snapshot = serializers.JSONField(required=False, allow_null=True, default=None)
    output_label = serializers.CharField(max_length=200)
    output_score = serializers.RegexField(
        r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$",
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
    )
    reasons = ReasonCodeSerializer(many=True, required=False, default=list)
    mode = serializers.ChoiceField(Decision.Mode.choices)
    reviewer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    overridden = serializers.BooleanField(required=False, default=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")
    final_label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["overridden"] and not attrs["override_reason"].strip():
            raise serializers.ValidationError({"override_reason": "An override needs a reason."})
        return attrs


class DecisionBatchInSerializer(serializers.Serializer):
    decisions = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000)


class DecisionOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version")

    class Meta:
        model = Decision
        fields = [
            "model",
            "version",
            "decision_id",
            "occurred_at",
            "input_sha256",
            "output_label",
            "output_score",
            "reasons",
            "mode",
            "reviewer",
            "overridden",
            "override_reason",
            "final_label",
            "payload_commitment",
            "posted_at",
            "ledger_key",
        ]


class DecisionDetailSerializer(DecisionOutSerializer):
    subject_ref = serializers.CharField(source="payload.subject_ref", default="")
    input_snapshot = serializers.JSONField(source="payload.input_snapshot", default=None, allow_null=True)
    erased_at = serializers.DateTimeField(source="payload.erased_at", default=None, allow_null=True)
    reviews = serializers.SerializerMethodField()

    class Meta(DecisionOutSerializer.Meta):
        fields = [
            *DecisionOutSerializer.Meta.fields,
            "subject_ref",
            "input_snapshot",
            "erased_at",
            "reviews",
        ]

    def get_reviews(self, decision: Decision) -> list[dict]:
        return DecisionReviewOutSerializer(decision.reviews.select_related("reviewer"), many=True).data


class DecisionReviewInSerializer(serializers.Serializer):
    action = serializers.ChoiceField(DecisionReview.Action.choices)
    reason_code = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    final_label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    schema_rules = text_needed_when(
        "action",
        [action for action in DecisionReview.Action.values if action != DecisionReview.Action.CONFIRM],
        "reason",
    )


class DecisionReviewOutSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")

    class Meta:
        model = DecisionReview
        fields = [
            "reviewer",
            "action",
            "reason_code",
            "reason",
            "final_label",
            "reviewed_at",
            "ledger_key",
        ]
