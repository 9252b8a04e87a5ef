"""The decision log: one row per regulated decision a deployed model made.

Personal data (the subject reference and the input snapshot) lives only in DecisionPayload,
which can be erased; the decision row and its ledger leaf keep a salted commitment to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models.fields import choices_check, sha256_check, sha256_field
from governance.models.registry import ModelVersion, RegisteredModel


class DecisionMode(models.TextChoices):
    AUTOMATED = "automated", "Solely automated"
    HUMAN_REVIEWED = "human_reviewed", "Human reviewed"


class Decision(models.Model):
    """A decision posted by a serving system; `decision_id` is the client's idempotency key."""

    Mode = DecisionMode

    # No single-column indexes on model and version: the unique (model, decision_id) index and
    # gov_decision_version_time_idx start with them and serve those lookups; every extra index
    # is written for each of the thousands of decisions a second.
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="decisions", db_index=False)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="decisions", db_index=False)
    decision_id = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    input_sha256 = sha256_field()
    output_label = models.CharField(max_length=200)
    output_score = models.CharField(max_length=40, blank=True)
    # Ranked [{"code", "text", "contribution" (decimal string, optional)}].
    reasons = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    reviewer = models.CharField(max_length=200, blank=True)
    overridden = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    final_label = models.CharField(max_length=200, blank=True)
    payload_commitment = sha256_field()
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "decision_id"],
                name="%(app_label)s_%(class)s_unique_decision_id",
                violation_error_message="This model already logged a decision with that id.",
            ),
            sha256_check("input_sha256", name="%(app_label)s_%(class)s_input_sha256_hex"),
            sha256_check("payload_commitment", name="%(app_label)s_%(class)s_commitment_hex"),
            choices_check("mode", DecisionMode, name="%(app_label)s_%(class)s_mode_valid"),
            models.CheckConstraint(
                condition=Q(overridden=False) | ~Q(override_reason=""),
                name="%(app_label)s_%(class)s_override_has_reason",
                violation_error_message="An override needs a reason.",
            ),
        ]
        indexes = [
            # Decisions of a version in a time range (usage statistics, audits).
            models.Index(fields=["version", "occurred_at"], name="gov_decision_version_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model.slug}/{self.decision_id}"


class DecisionPayload(models.Model):
    """The erasable personal part of a decision: subject reference and input snapshot.

    Erasure blanks the fields and the salt; the commitment in the ledger stays, unprovable
    against anything once the salt is gone.
    """

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="payload")
    subject_ref = models.CharField(max_length=200, blank=True)
    input_snapshot = models.JSONField(null=True, blank=True)
    salt = models.BinaryField(max_length=32)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Explanation requests look decisions up by the pseudonymous subject reference.
            models.Index(fields=["subject_ref"], name="gov_payload_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"payload of {self.decision_id}"


class DecisionReviewAction(models.TextChoices):
    CONFIRM = "confirm", "Confirm"
    OVERRIDE = "override", "Override"
    REVERSE = "reverse", "Reverse"
    ESCALATE = "escalate", "Escalate"


class DecisionReview(models.Model):
    """A later human review of a decision: confirm, override, reverse or escalate."""

    Action = DecisionReviewAction

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    reason_code = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    final_label = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["reviewed_at"]
        constraints = [
            choices_check("action", DecisionReviewAction, name="%(app_label)s_%(class)s_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.action} of {self.decision}"
