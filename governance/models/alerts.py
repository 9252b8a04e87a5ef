"""Alerts, retraining requests, webhooks and deliveries: what the watch jobs raise and who hears of it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models.deployments import Deployment
from governance.models.fields import choices_check, sha256_check, sha256_field, url_check
from governance.models.registry import ModelVersion, RegisteredModel


class AlertKind(models.TextChoices):
    DRIFT = "drift", "Drift"
    ACCURACY = "accuracy", "Accuracy below threshold"
    VOLUME = "volume", "Volume below threshold"
    UNMONITORED = "unmonitored", "Unmonitored"
    ORPHANED = "orphaned", "Orphaned model"
    # A record differs from the ledger entry that recorded it (found while building a report).
    INTEGRITY = "integrity", "Record differs from the ledger"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """Something about a model that needs a person: open → acknowledged → resolved.

    `dedupe_key` names the condition (e.g. drift of one feature of one version); while an alert
    for a key is unresolved, the same condition opens no second alert.
    """

    Kind = AlertKind
    State = AlertState

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="alerts")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    summary = models.CharField(max_length=500)
    # Values and thresholds as decimal strings, observation ids, owner names: never floats.
    details = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(state="resolved"),
                name="%(app_label)s_%(class)s_one_unresolved_per_key",
                violation_error_message="An unresolved alert for this condition already exists.",
            ),
            choices_check("kind", AlertKind, name="%(app_label)s_%(class)s_kind_valid"),
            choices_check("state", AlertState, name="%(app_label)s_%(class)s_state_valid"),
            models.CheckConstraint(
                condition=Q(state="open") | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="%(app_label)s_%(class)s_acknowledged_has_who_when",
                violation_error_message="An acknowledged or resolved alert records who acknowledged it and when.",
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | Q(resolved_at__isnull=False, resolved_by__isnull=False),
                name="%(app_label)s_%(class)s_resolved_has_who_when",
                violation_error_message="A resolved alert records who resolved it and when.",
            ),
        ]
        indexes = [
            # The alert queue and the status page: a model's alerts by state, newest first.
            models.Index(fields=["model", "state", "opened_at"], name="gov_alert_model_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert on {self.model} ({self.state})"


class RetrainingRule(models.TextChoices):
    DRIFT = "drift", "Drift over threshold in consecutive windows"
    ACCURACY = "accuracy", "Live accuracy under the floor"
    AGE = "age", "Serving version older than the maximum age"
    NEW_DATA = "new_data", "New training data registered"


class RetrainingRequestState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class RetrainingRequest(models.Model):
    """A change request raised by a retraining rule; closed by the version registered for it.

    At most one open request per model.
    """

    Rule = RetrainingRule
    State = RetrainingRequestState

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="retraining_requests")
    # The version serving production when the rule fired.
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    details = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="retraining_closed"
    )
    ledger_key = models.CharField(max_length=200, unique=True)
    close_ledger_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(state="open"),
                name="%(app_label)s_%(class)s_one_open_per_model",
                violation_error_message="This model already has an open retraining request.",
            ),
            choices_check("rule", RetrainingRule, name="%(app_label)s_%(class)s_rule_valid"),
            choices_check("state", RetrainingRequestState, name="%(app_label)s_%(class)s_state_valid"),
            models.CheckConstraint(
                condition=Q(state="open") | Q(closed_at__isnull=False, closed_by_version__isnull=False),
                name="%(app_label)s_%(class)s_closed_names_version",
                violation_error_message="A closed retraining request names the version that answered it.",
            ),
        ]

    def __str__(self) -> str:
        return f"retraining of {self.model} ({self.rule}, {self.state})"


class Webhook(models.Model):
    """An HTTP endpoint notified of events, for one model or (model empty) for all.

    The signing secret is stored encrypted (see governance.services.notifications) and never
    shown again after it is set. A deleted webhook stays for its delivery log, inactive.
    """

    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, null=True, blank=True, related_name="webhooks"
    )
    url = models.URLField(max_length=1000)
    secret_encrypted = models.TextField()
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(active=False),
                name="%(app_label)s_%(class)s_deleted_is_inactive",
                violation_error_message="A deleted webhook cannot be active.",
            ),
            url_check("url", name="%(app_label)s_%(class)s_url", blank=False),
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} → {self.url}"


class DeliveryChannel(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "Email"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notification of one event to one webhook or one list of email recipients.

    The outbox and the delivery log in one: `body` holds the exact bytes sent (so every retry
    sends, and signs, the same bytes) and `attempts_log` each attempt's time, status and error.
    A sender claims a due row by moving `next_attempt_at` forward in a conditional UPDATE.
    """

    Channel = DeliveryChannel
    State = DeliveryState

    channel = models.CharField(max_length=10, choices=Channel.choices)
    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries")
    recipients = models.TextField(blank=True, help_text="Comma-separated email addresses (email channel).")
    event = models.CharField(max_length=64)
    event_key = models.CharField(max_length=200)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    body_sha256 = sha256_field()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # [{"attempt", "at", "status_code", "error", "next_attempt_at"}], oldest first.
    attempts_log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_key"],
                condition=Q(channel="webhook"),
                name="%(app_label)s_%(class)s_once_per_webhook",
                violation_error_message="That event is already queued for that webhook.",
            ),
            models.UniqueConstraint(
                fields=["event_key"],
                condition=Q(channel="email"),
                name="%(app_label)s_%(class)s_one_email_per_event",
                violation_error_message="That event is already queued for email.",
            ),
            choices_check("channel", DeliveryChannel, name="%(app_label)s_%(class)s_channel_valid"),
            choices_check("state", DeliveryState, name="%(app_label)s_%(class)s_state_valid"),
            sha256_check("body_sha256", name="%(app_label)s_%(class)s_body_sha256_hex"),
            models.CheckConstraint(
                condition=(Q(channel="webhook") & Q(webhook__isnull=False))
                | (Q(channel="email") & Q(webhook__isnull=True) & ~Q(recipients="")),
                name="%(app_label)s_%(class)s_target_matches_channel",
                violation_error_message="A webhook delivery names its webhook; an email names its recipients.",
            ),
        ]
        indexes = [
            # The retry sweep: pending deliveries that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="gov_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} ({self.state})"
