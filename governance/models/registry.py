"""The registry: models, datasets, versions, model cards, approvals, status and ownership."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models.fields import choices_check, sha256_check, sha256_field, url_check


class RegisteredModelRegulatedUse(models.TextChoices):
    CREDIT = "credit", "Credit"
    INSURANCE = "insurance", "Insurance"
    EMPLOYMENT = "employment", "Employment"
    HEALTHCARE = "healthcare", "Healthcare"
    OTHER = "other", "Other"


class RegisteredModelRiskTier(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class RegisteredModel(models.Model):
    """A model family or AI system in the inventory: one row per thing a regulator asks about.

    Descriptive fields are set at registration; ownership changes only through an accepted
    transfer, and validation dates only through `model_update_validation`, each a ledger event.
    """

    RegulatedUse = RegisteredModelRegulatedUse

    RiskTier = RegisteredModelRiskTier

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    intended_purpose = models.TextField()
    out_of_scope_uses = models.TextField(blank=True)
    regulated_use = models.CharField(max_length=20, choices=RegulatedUse.choices)
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices)
    provider = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_models")
    runbook = models.TextField(blank=True, help_text="The http(s) URL of the operating runbook.")
    validated_at = models.DateField(null=True, blank=True)
    next_validation_due = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("register_version", "Register datasets and versions, post metrics, revise cards"),
            ("approve_version", "Sign approvals of versions"),
            ("log_decisions", "Log decisions and post monitoring observations"),
            ("read_reports", "Generate and download reports"),
            ("manage_access", "Grant and revoke access"),
        ]
        constraints = [
            choices_check(
                "regulated_use",
                RegisteredModelRegulatedUse,
                name="%(app_label)s_%(class)s_regulated_use_valid",
            ),
            choices_check("risk_tier", RegisteredModelRiskTier, name="%(app_label)s_%(class)s_risk_tier_valid"),
            url_check("runbook", name="%(app_label)s_%(class)s_runbook_url"),
        ]

    def __str__(self) -> str:
        return self.slug


class Dataset(models.Model):
    """A dataset identified by the SHA-256 of its content; one dataset can train many versions.

    A dataset whose content was never read (an MLflow input on s3://, a table) is known only by a
    reference hash of its name and location: `hash_kind` says so, and such a dataset does not
    satisfy the versioned-data gate of a high-risk model.
    """

    class HashKind(models.TextChoices):
        CONTENT = "content", "Content hash"
        REFERENCE = "reference", "Reference only"

    name = models.CharField(max_length=200)
    uri = models.CharField(max_length=1000)
    sha256 = sha256_field(unique=True)
    hash_kind = models.CharField(max_length=20, choices=HashKind.choices, default=HashKind.CONTENT)
    size_bytes = models.BigIntegerField()
    row_count = models.BigIntegerField(null=True, blank=True)
    schema_sha256 = sha256_field(blank=True)
    provenance = models.TextField(blank=True)
    preparation = models.TextField(blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-registered_at"]
        constraints = [
            sha256_check("sha256", name="%(app_label)s_%(class)s_sha256_hex"),
            sha256_check("schema_sha256", name="%(app_label)s_%(class)s_schema_sha256_hex", nullable=True),
            url_check("uri", name="%(app_label)s_%(class)s_uri_scheme", storage=True, blank=False),
            models.CheckConstraint(
                condition=Q(hash_kind__in=["content", "reference"]),
                name="%(app_label)s_%(class)s_hash_kind_valid",
                violation_error_message="A dataset hash is a content hash or a reference.",
            ),
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0) & (Q(row_count__isnull=True) | Q(row_count__gte=0)),
                name="%(app_label)s_%(class)s_sizes_non_negative",
                violation_error_message="Sizes and row counts cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"


class ModelVersionStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DEPLOYED = "deployed", "Deployed"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    """One trained artifact of a model, immutable once registered.

    Only `status` changes after registration, and only through services that log the change as
    a ledger event and a StatusChange row.
    """

    Status = ModelVersionStatus

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    artifact_sha256 = sha256_field()
    artifact_uri = models.CharField(max_length=1000)
    code_repository = models.CharField(max_length=500, blank=True)
    code_commit = models.CharField(max_length=64, blank=True)
    pipeline_run_id = models.CharField(max_length=200, blank=True)
    pipeline_run_url = models.CharField(max_length=1000, blank=True)
    environment_lock_sha256 = sha256_field(blank=True)
    # {name: decimal string}; never floats.
    hyperparameters = models.JSONField(default=dict, blank=True)
    # [{"name", "value" (decimal string), "slice" (optional), "dataset_sha256" (optional)}]
    metrics = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    datasets = models.ManyToManyField(Dataset, through="VersionDataset", related_name="versions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REGISTERED)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["model__slug", "registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "version"],
                name="%(app_label)s_%(class)s_unique_version",
                violation_error_message="This model already has a version with that name.",
            ),
            sha256_check("artifact_sha256", name="%(app_label)s_%(class)s_artifact_sha256_hex"),
            sha256_check(
                "environment_lock_sha256",
                name="%(app_label)s_%(class)s_environment_lock_sha256_hex",
                nullable=True,
            ),
            choices_check("status", ModelVersionStatus, name="%(app_label)s_%(class)s_status_valid"),
            url_check("artifact_uri", name="%(app_label)s_%(class)s_artifact_uri_scheme", storage=True, blank=False),
            url_check("code_repository", name="%(app_label)s_%(class)s_code_repository_url"),
            url_check("pipeline_run_url", name="%(app_label)s_%(class)s_pipeline_run_url"),
        ]
        indexes = [
            # Lists by status, oldest first (the review queue, approved versions): read in order
            # up to the page's end. The model column lets a pipeline's count read this index
            # alone, each entry checked against its granted models (governance/grants.py).
            models.Index(fields=["status", "registered_at", "model"], name="gov_version_status_idx"),
            # A pipeline's lists by status: its granted models' versions, two index probes each.
            models.Index(fields=["model", "status", "registered_at"], name="gov_version_model_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} {self.version}"


class VersionDatasetRole(models.TextChoices):
    TRAINING = "training", "Training"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class VersionDataset(models.Model):
    """Which datasets a version was trained, validated and tested on."""

    Role = VersionDatasetRole

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="dataset_links")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="version_links")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "dataset", "role"],
                name="%(app_label)s_%(class)s_unique_link",
                violation_error_message="That dataset is already linked in that role.",
            ),
            choices_check("role", VersionDatasetRole, name="%(app_label)s_%(class)s_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.role}: {self.dataset}"


class ModelCard(models.Model):
    """One immutable revision of a version's model card ("Model Cards for Model Reporting").

    A revision is a new row; an approval names the revision it signed, which freezes the card.
    """

    SECTIONS = (
        "model_details",
        "intended_use",
        "factors",
        "metrics",
        "evaluation_data",
        "training_data",
        "quantitative_analyses",
        "ethical_considerations",
        "caveats_and_recommendations",
    )

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="cards")
    revision = models.PositiveIntegerField()
    content = models.JSONField()
    content_sha256 = sha256_field()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["version", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "revision"],
                name="%(app_label)s_%(class)s_unique_revision",
                violation_error_message="That card revision already exists.",
            ),
            sha256_check("content_sha256", name="%(app_label)s_%(class)s_content_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.version} card r{self.revision}"

    @property
    def missing_sections(self) -> list[str]:
        return [s for s in self.SECTIONS if not str(self.content.get(s, "")).strip()]


class ApprovalMeaning(models.TextChoices):
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


class Approval(models.Model):
    """An electronic signature (21 CFR 11.50): who, in what role, when, meaning what, over what.

    `signed_sha256` binds the signature to exactly the version record and card revision signed;
    `sod_checks` records each separation-of-duties rule evaluated and its outcome.
    """

    Meaning = ApprovalMeaning

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="approvals")
    card = models.ForeignKey(ModelCard, on_delete=models.PROTECT, related_name="approvals", null=True)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)
    signer_role = models.CharField(max_length=100)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    reason = models.TextField()
    signed_at = models.DateTimeField()
    signed_sha256 = sha256_field()
    authentication = models.CharField(max_length=100, default="password re-entered")
    sod_checks = models.JSONField(default=list)
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            choices_check("meaning", ApprovalMeaning, name="%(app_label)s_%(class)s_meaning_valid"),
            sha256_check("signed_sha256", name="%(app_label)s_%(class)s_signed_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.meaning} by {self.signer_name} on {self.version}"


class StatusChange(models.Model):
    """A version's move from one lifecycle status to another, with who and why."""

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ModelVersionStatus.choices)
    to_status = models.CharField(max_length=20, choices=ModelVersionStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["changed_at"]

    def __str__(self) -> str:
        return f"{self.version}: {self.from_status} → {self.to_status}"


class OwnershipTransferState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    CANCELLED = "cancelled", "Cancelled"


class OwnershipTransfer(models.Model):
    """A proposed change of a model's owner, effective only when the new owner accepts."""

    State = OwnershipTransferState

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="transfers")
    from_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(state="pending"),
                name="%(app_label)s_%(class)s_one_pending",
                violation_error_message="This model already has a pending ownership transfer.",
            ),
            choices_check("state", OwnershipTransferState, name="%(app_label)s_%(class)s_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.model}: {self.from_owner} → {self.to_owner} ({self.state})"
