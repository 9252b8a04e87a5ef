"""Explicit input and output serializers for models, datasets, versions, cards and approvals."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from rest_framework import serializers

from api.serializers.fields import secret_field, storage_uri, web_url
from governance.models import (
    Approval,
    Dataset,
    ModelCard,
    ModelVersion,
    OwnershipTransfer,
    RegisteredModel,
    VersionDataset,
)
from governance.validation import SLUG_RE

User = get_user_model()


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs)


class ReceiptSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField()
    seq = serializers.IntegerField()
    leaf_hash = serializers.CharField()
    inclusion = serializers.DictField(required=False)


# --- Models ---------------------------------------------------------------------------------
class ModelInSerializer(serializers.Serializer):
    slug = serializers.RegexField(SLUG_RE.pattern, max_length=100, help_text="Lowercase letters, digits and hyphens.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    intended_purpose = serializers.CharField()
    out_of_scope_uses = serializers.CharField(required=False, allow_blank=True, default="")
    regulated_use = serializers.ChoiceField(RegisteredModel.RegulatedUse.choices)
    risk_tier = serializers.ChoiceField(RegisteredModel.RiskTier.choices)
    provider = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    owner = UsernameField()
    runbook = web_url(required=False, allow_blank=True, default="", help_text="The http(s) URL of the runbook.")
    next_validation_due = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)


class ModelOutSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = RegisteredModel
        fields = [
            "slug",
            "name",
            "description",
            "intended_purpose",
            "out_of_scope_uses",
            "regulated_use",
            "risk_tier",
            "provider",
            "owner",
            "runbook",
            "validated_at",
            "next_validation_due",
            "valid_until",
            "created_at",
            "ledger_key",
        ]


class ValidationDatesSerializer(serializers.Serializer):
    validated_at = serializers.DateField(allow_null=True)
    next_validation_due = serializers.DateField(allow_null=True, help_text="Not before validated_at.")
    valid_until = serializers.DateField(allow_null=True)


class TransferInSerializer(serializers.Serializer):
    to_owner = UsernameField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TransferOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    from_owner = serializers.CharField(source="from_owner.username")
    to_owner = serializers.CharField(source="to_owner.username")
    requested_by = serializers.CharField(source="requested_by.username")

    class Meta:
        model = OwnershipTransfer
        fields = [
            "id",
            "model",
            "from_owner",
            "to_owner",
            "requested_by",
            "reason",
            "state",
            "requested_at",
            "decided_at",
            "ledger_key",
        ]


# --- Datasets -------------------------------------------------------------------------------
class DatasetInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    uri = storage_uri()
    sha256 = serializers.CharField(max_length=64)
    # Ledger leaves carry integers only up to 2**53 - 1 (RFC 8785 numbers are doubles).
    size_bytes = serializers.IntegerField(min_value=0, max_value=2**53 - 1)
    row_count = serializers.IntegerField(
        min_value=0, max_value=2**53 - 1, required=False, allow_null=True, default=None
    )
    schema_sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    provenance = serializers.CharField(required=False, allow_blank=True, default="")
    preparation = serializers.CharField(required=False, allow_blank=True, default="")
    hash_kind = serializers.ChoiceField(
        Dataset.HashKind.choices,
        default=Dataset.HashKind.CONTENT,
        help_text="reference when the SHA-256 is of the dataset's name and location, its content never read.",
    )


class DatasetOutSerializer(serializers.ModelSerializer):
    registered_by = serializers.CharField(source="registered_by.username")

    class Meta:
        model = Dataset
        fields = [
            "name",
            "uri",
            "sha256",
            "size_bytes",
            "row_count",
            "schema_sha256",
            "provenance",
            "preparation",
            "hash_kind",
            "registered_by",
            "registered_at",
            "ledger_key",
        ]


# --- Versions -------------------------------------------------------------------------------
class DatasetLinkSerializer(serializers.Serializer):
    sha256 = serializers.CharField(max_length=64)
    role = serializers.ChoiceField(VersionDataset.Role.choices)


class MetricSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    value = serializers.CharField(max_length=40, help_text='A decimal string such as "0.8731".')
    slice = serializers.CharField(max_length=200, required=False)
    dataset_sha256 = serializers.CharField(max_length=64, required=False)


class VersionInSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=64)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    artifact_sha256 = serializers.CharField(max_length=64)
    artifact_uri = storage_uri()
    datasets = DatasetLinkSerializer(many=True)
    code_repository = web_url(max_length=500, required=False, allow_blank=True, default="")
    code_commit = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    pipeline_run_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    pipeline_run_url = web_url(required=False, allow_blank=True, default="")
    environment_lock_sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    hyperparameters = serializers.DictField(child=serializers.CharField(max_length=1000), required=False, default=dict)
    metrics = MetricSerializer(many=True, required=False, default=list)
    parent = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)
    retraining_request = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The id of the open retraining request this version answers (closes it).",
    )


class VersionOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    parent = serializers.CharField(source="parent.version", default=None, allow_null=True)
    registered_by = serializers.CharField(source="registered_by.username")
    datasets = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "version",
            "description",
            "status",
            "artifact_sha256",
            "artifact_uri",
            "datasets",
            "code_repository",
            "code_commit",
            "pipeline_run_id",
            "pipeline_run_url",
            "environment_lock_sha256",
            "hyperparameters",
            "metrics",
            "parent",
            "registered_by",
            "registered_at",
            "ledger_key",
        ]

    def get_datasets(self, version: ModelVersion) -> list[dict[str, str]]:
        return [
            {"role": link.role, "sha256": link.dataset.sha256, "name": link.dataset.name}
            for link in version.dataset_links.all()
        ]


class VersionRefSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField()
    status = serializers.CharField()


class CardInSerializer(serializers.Serializer):
    content = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=100_000),
        help_text=f"Sections: {', '.join(ModelCard.SECTIONS)}.",
    )


class CardOutSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    missing_sections = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ModelCard
        fields = [
            "revision",
            "content",
            "content_sha256",
            "author",
            "created_at",
            "missing_sections",
            "ledger_key",
        ]


class ApprovalInSerializer(serializers.Serializer):
    meaning = serializers.ChoiceField(Approval.Meaning.choices)
    # The pattern puts "not blank" into the schema (the field is trimmed, so spaces alone are blank).
    reason = serializers.CharField(validators=[RegexValidator(r"\S", message="A signature needs a reason.")])
    # Optional here so that a missing password is a failed re-authentication (403), not a 400.
    password = secret_field(
        required=False,
        allow_blank=True,
        default="",
        help_text="The signer's password, re-entered to sign (taken exactly as typed).",
    )
    card_revision = serializers.IntegerField(required=False, allow_null=True, default=None)
    expected_sha256 = serializers.CharField(required=False, allow_null=True, default=None, max_length=64)


class ApprovalOutSerializer(serializers.ModelSerializer):
    signer = serializers.CharField(source="signer.username")
    card_revision = serializers.IntegerField(source="card.revision", default=None, allow_null=True)

    class Meta:
        model = Approval
        fields = [
            "signer",
            "signer_name",
            "signer_role",
            "meaning",
            "reason",
            "signed_at",
            "signed_sha256",
            "card_revision",
            "authentication",
            "sod_checks",
            "ledger_key",
        ]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class GrantInSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="Username of the grantee (or give group).")
    group = serializers.CharField(required=False)
    actions = serializers.ListField(
        child=serializers.ChoiceField(["view", "register", "log", "reports"]), min_length=1
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    schema_rules = {"oneOf": [{"required": ["user"]}, {"required": ["group"]}]}

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError("Give exactly one of user or group.")
        return attrs
