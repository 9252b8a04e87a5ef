"""Audit reports: sealed PDFs generated on request, each generation and download a ledger event."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models.decisions import Decision
from governance.models.fields import choices_check
from governance.models.registry import ModelVersion, RegisteredModel


class ReportKind(models.TextChoices):
    VERSION = "version", "Model-version dossier"
    DECISION = "decision", "Regulated-decision report"
    ANNEX_IV = "annex-iv", "EU AI Act Annex IV technical documentation"


# The kinds of report about a version rather than a decision.
VERSION_KINDS = (ReportKind.VERSION, ReportKind.ANNEX_IV)


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReportRedaction(models.TextChoices):
    AUTHORITY = "authority", "Authority (everything)"
    INTERNAL = "internal", "Internal (pseudonymised)"
    SUBJECT = "subject", "Data subject (no third-party data)"


class Report(models.Model):
    """A requested report and, once generated, the sealed PDF's hashes and where it is stored.

    Generation is a re-runnable task: a pending or failed report can be generated again; a
    ready one keeps its file, whose SHA-256 is recorded here and in the ledger.
    """

    Kind = ReportKind
    Status = ReportStatus
    Redaction = ReportRedaction

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="reports")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    purpose = models.CharField(max_length=200, blank=True)
    # Who the edition is for; decision reports only (a dossier holds no personal data).
    redaction = models.CharField(max_length=20, choices=ReportRedaction.choices, default=ReportRedaction.AUTHORITY)
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    # Null when generated from the command line by the operator.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    requested_at = models.DateTimeField()
    generated_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    content_length = models.PositiveIntegerField(null=True, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    development = models.BooleanField(default=False)
    checkpoint_size = models.BigIntegerField(null=True, blank=True)
    ledger_entries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            choices_check("kind", ReportKind, name="%(app_label)s_%(class)s_kind_valid"),
            choices_check("status", ReportStatus, name="%(app_label)s_%(class)s_status_valid"),
            choices_check("redaction", ReportRedaction, name="%(app_label)s_%(class)s_redaction_valid"),
            models.CheckConstraint(
                condition=(Q(kind__in=["version", "annex-iv"], version__isnull=False, decision__isnull=True))
                | (Q(kind="decision", decision__isnull=False)),
                name="%(app_label)s_%(class)s_subject_matches_kind",
                violation_error_message=(
                    "A version or Annex IV report names a version; a decision report a decision."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} report {self.id}"

    @property
    def subject(self) -> str:
        if self.kind in VERSION_KINDS:
            return f"model:{self.model.slug}/version:{self.version.version}"
        return f"model:{self.model.slug}/decision:{self.decision.decision_id}"
