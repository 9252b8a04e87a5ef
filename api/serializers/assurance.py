"""Serializers for the assurance records: classification, risks, oversight measures, findings."""

from __future__ import annotations

from rest_framework import serializers

from api.schema import text_needed_when
from governance.models import Classification, OversightMeasure, RiskEntry, ValidationFinding

ENTRY_ID = r"^[a-z0-9][a-z0-9-]{0,99}$"
LONG = 5000


def _text(required: bool = True, limit: int = LONG) -> serializers.CharField:
    if required:
        return serializers.CharField(max_length=limit, trim_whitespace=False)
    return serializers.CharField(max_length=limit, required=False, allow_blank=True, default="", trim_whitespace=False)


class ClassificationInSerializer(serializers.Serializer):
    intended_purpose = _text()
    annex_iii = serializers.ChoiceField(choices=Classification.Point.choices)
    rationale = _text(required=False)
    role = serializers.ChoiceField(choices=[("provider", "Provider"), ("deployer", "Deployer")], default="provider")

    schema_rules = text_needed_when("annex_iii", ["not_high_risk"], "rationale")


class RiskInSerializer(serializers.Serializer):
    entry_id = serializers.RegexField(ENTRY_ID, max_length=100)
    hazard = _text()
    affected = _text(required=False)
    mitigation = _text(required=False)
    residual_level = serializers.ChoiceField(choices=RiskEntry.Level.choices)
    acceptance = serializers.ChoiceField(choices=RiskEntry.Acceptance.choices, default="pending")
    acceptance_note = _text(required=False)

    schema_rules = text_needed_when("acceptance", ["accepted"], "acceptance_note")


class OversightInSerializer(serializers.Serializer):
    entry_id = serializers.RegexField(ENTRY_ID, max_length=100)
    measure = _text()
    responsible = _text(limit=200)
    active = serializers.BooleanField(default=True)


class FindingInSerializer(serializers.Serializer):
    entry_id = serializers.RegexField(ENTRY_ID, max_length=100)
    title = _text(limit=300)
    severity = serializers.ChoiceField(choices=ValidationFinding.Level.choices)
    remediation = _text(required=False)
    state = serializers.ChoiceField(choices=ValidationFinding.State.choices, default="open")


_RECORDED = ["entry_id", "revision", "recorded_by", "recorded_at", "ledger_key"]


class ClassificationOutSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = Classification
        fields = ["intended_purpose", "annex_iii", "rationale", "role", *_RECORDED]


class RiskOutSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = RiskEntry
        fields = ["hazard", "affected", "mitigation", "residual_level", "acceptance", "acceptance_note", *_RECORDED]


class OversightOutSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = OversightMeasure
        fields = ["measure", "responsible", "active", *_RECORDED]


class FindingOutSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = ValidationFinding
        fields = ["title", "severity", "remediation", "state", *_RECORDED]


# kind -> (input, output) serializers
SERIALIZERS = {
    "classification": (ClassificationInSerializer, ClassificationOutSerializer),
    "risk": (RiskInSerializer, RiskOutSerializer),
    "oversight": (OversightInSerializer, OversightOutSerializer),
    "finding": (FindingInSerializer, FindingOutSerializer),
}
