"""Assurance records: the AI Act classification, the risk register, human-oversight measures and
validation findings. Each is appended, never edited: a revision of an entry is a new row with the
same `entry_id` and a higher `revision`, and the latest revision is the one in force.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.fields import choices_check
from governance.models.registry import ModelVersion, RegisteredModel


class AnnexIIIPoint(models.TextChoices):
    CREDITWORTHINESS = "5(b)", "Annex III 5(b): creditworthiness or credit score"
    INSURANCE = "5(c)", "Annex III 5(c): life and health insurance pricing"
    RECRUITMENT = "4(a)", "Annex III 4(a): recruitment and selection"
    EMPLOYMENT = "4(b)", "Annex III 4(b): work-related decisions"
    PUBLIC_BENEFITS = "5(a)", "Annex III 5(a): public assistance benefits"
    OTHER_ANNEX_III = "other", "Another Annex III point (named in the rationale)"
    ANNEX_I = "annex_i", "Annex I product safety component"
    NOT_HIGH_RISK = "not_high_risk", "Not high-risk (Art. 6(3) rationale given)"


class Level(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class _Recorded(models.Model):
    """Who recorded a revision, when, and its ledger entry."""

    entry_id = models.SlugField(max_length=100)
    revision = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        abstract = True


class Classification(_Recorded):
    """The system's intended purpose and its AI Act classification (Art. 6, Annex III), with the
    provider-or-deployer role. One entry per model (`entry_id` "classification")."""

    Point = AnnexIIIPoint

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="classifications")
    intended_purpose = models.TextField()
    annex_iii = models.CharField(max_length=20, choices=AnnexIIIPoint.choices)
    rationale = models.TextField(blank=True)
    role = models.CharField(max_length=20, choices=[("provider", "Provider"), ("deployer", "Deployer")])

    class Meta:
        ordering = ["model", "entry_id", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "entry_id", "revision"],
                name="%(app_label)s_%(class)s_unique_revision",
                violation_error_message="That revision already exists.",
            ),
            choices_check("annex_iii", AnnexIIIPoint, name="%(app_label)s_%(class)s_annex_iii_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.annex_iii} r{self.revision}"


class RiskAcceptance(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    NOT_ACCEPTED = "not_accepted", "Not accepted"


class RiskEntry(_Recorded):
    """A risk register entry (Art. 9): the hazard, who it affects, the mitigation, the residual
    level and whether that residual risk is accepted, and by whom (named in `acceptance_note`;
    the signed acceptance is an approval with meaning "risk accepted")."""

    Acceptance = RiskAcceptance
    Level = Level

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="risks")
    hazard = models.TextField()
    affected = models.TextField(blank=True)
    mitigation = models.TextField(blank=True)
    residual_level = models.CharField(max_length=10, choices=Level.choices)
    acceptance = models.CharField(max_length=20, choices=RiskAcceptance.choices, default=RiskAcceptance.PENDING)
    acceptance_note = models.TextField(blank=True)

    class Meta:
        ordering = ["model", "entry_id", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "entry_id", "revision"],
                name="%(app_label)s_%(class)s_unique_revision",
                violation_error_message="That revision already exists.",
            ),
            choices_check("residual_level", Level, name="%(app_label)s_%(class)s_residual_level_valid"),
            choices_check("acceptance", RiskAcceptance, name="%(app_label)s_%(class)s_acceptance_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.model} risk {self.entry_id} r{self.revision}"


class OversightMeasure(_Recorded):
    """A human-oversight measure (Art. 14, Annex IV 2(e)): what people can do to watch, override
    or stop the system, and who is responsible for it."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="oversight_measures")
    measure = models.TextField()
    responsible = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["model", "entry_id", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "entry_id", "revision"],
                name="%(app_label)s_%(class)s_unique_revision",
                violation_error_message="That revision already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} oversight {self.entry_id} r{self.revision}"


class FindingState(models.TextChoices):
    OPEN = "open", "Open"
    IN_REMEDIATION = "in_remediation", "In remediation"
    REMEDIATED = "remediated", "Remediated"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


class ValidationFinding(_Recorded):
    """A finding of the independent validation of a version (SR 11-7), its severity and the
    state of its remediation."""

    State = FindingState
    Level = Level

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="findings")
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=Level.choices)
    remediation = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=FindingState.choices, default=FindingState.OPEN)

    class Meta:
        ordering = ["version", "entry_id", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "entry_id", "revision"],
                name="%(app_label)s_%(class)s_unique_revision",
                violation_error_message="That revision already exists.",
            ),
            choices_check("severity", Level, name="%(app_label)s_%(class)s_severity_valid"),
            choices_check("state", FindingState, name="%(app_label)s_%(class)s_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.version} finding {self.entry_id} r{self.revision}"


# The table of each kind of assurance record, by the name its events and URLs use.
ASSURANCE_TABLES: dict[str, type[models.Model]] = {
    "classification": Classification,
    "risk": RiskEntry,
    "oversight": OversightMeasure,
    "finding": ValidationFinding,
}
