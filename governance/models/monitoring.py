"""Production gates' evidence, monitoring, alerts, retraining requests and notifications.

Policies (metric thresholds, monitoring and retraining policies) are versioned by appending: a
new setting supersedes the current rows (`superseded_at`), so the thresholds in force on any
date, and when they were fixed, stay on record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models.deployments import Deployment
from governance.models.fields import choices_check, sha256_check, sha256_field, url_check
from governance.models.registry import ModelVersion, RegisteredModel

DECIMAL_REGEX = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"


def decimal_field(**kwargs: object) -> models.CharField:
    """A decimal number kept as its string (never a float): ledger events carry it unchanged."""
    return models.CharField(max_length=40, **kwargs)


def decimal_check(field: str, *, name: str, blank: bool = False) -> models.CheckConstraint:
    condition = Q(**{f"{field}__regex": DECIMAL_REGEX})
    if blank:
        condition |= Q(**{field: ""})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f'{field} must be a decimal string such as "0.25".',
    )


class MetricThresholdOperator(models.TextChoices):
    MIN = "min", "At least"
    MAX = "max", "At most"


class MetricThreshold(models.Model):
    """A declared bound on a metric of a model: `min` means value ≥ bound, `max` value ≤ bound.

    The same thresholds gate promotion (against the metrics a version was registered with) and
    judge live performance observations of the same metric name and slice.
    """

    Operator = MetricThresholdOperator

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="thresholds")
    metric = models.CharField(max_length=100)
    slice = models.CharField(max_length=200, blank=True)
    operator = models.CharField(max_length=3, choices=Operator.choices)
    value = decimal_field()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    ledger_key = models.CharField(max_length=200)

    class Meta:
        ordering = ["model", "metric", "slice", "operator"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "metric", "slice", "operator"],
                condition=Q(superseded_at__isnull=True),
                name="%(app_label)s_%(class)s_one_current_bound",
                violation_error_message="That metric already has a current bound of this kind.",
            ),
            choices_check("operator", MetricThresholdOperator, name="%(app_label)s_%(class)s_operator_valid"),
            decimal_check("value", name="%(app_label)s_%(class)s_value_decimal"),
        ]

    def __str__(self) -> str:
        sign = "≥" if self.operator == self.Operator.MIN else "≤"
        return f"{self.model}: {self.metric}{f'[{self.slice}]' if self.slice else ''} {sign} {self.value}"


class MonitoringPolicy(models.Model):
    """How a model is watched in production: the observation cadence and the drift bounds.

    A deployed version with no observation for `expected_interval_minutes` is unmonitored.
    Live performance is judged by the model's MetricThresholds; `min_volume` (optional) is the
    fewest scored cases a window may hold before it raises a volume alert.
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="monitoring_policies")
    expected_interval_minutes = models.PositiveIntegerField()
    psi_threshold = decimal_field()
    ks_threshold = decimal_field()
    min_volume = models.PositiveBigIntegerField(null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["model", "-set_at"]
        verbose_name_plural = "monitoring policies"
        constraints = [
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(superseded_at__isnull=True),
                name="%(app_label)s_%(class)s_one_current",
                violation_error_message="This model already has a current monitoring policy.",
            ),
            models.CheckConstraint(
                condition=Q(expected_interval_minutes__gte=1),
                name="%(app_label)s_%(class)s_interval_positive",
                violation_error_message="The expected observation interval is at least one minute.",
            ),
            decimal_check("psi_threshold", name="%(app_label)s_%(class)s_psi_decimal"),
            decimal_check("ks_threshold", name="%(app_label)s_%(class)s_ks_decimal"),
        ]

    def __str__(self) -> str:
        return f"{self.model}: every {self.expected_interval_minutes} min, PSI ≤ {self.psi_threshold}"


class RetrainingPolicy(models.Model):
    """When a model asks for retraining; each rule is off when its field is empty.

    - drift: drift over the monitoring bounds in `drift_windows` consecutive windows;
    - accuracy: the latest live `accuracy_metric` below `accuracy_floor`;
    - age: the serving version registered more than `max_age_days` ago;
    - new data: a dataset whose URI starts with `new_data_uri_prefix` registered since.
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="retraining_policies")
    drift_windows = models.PositiveIntegerField(null=True, blank=True)
    accuracy_metric = models.CharField(max_length=100, blank=True)
    accuracy_floor = decimal_field(blank=True)
    max_age_days = models.PositiveIntegerField(null=True, blank=True)
    new_data_uri_prefix = models.CharField(max_length=1000, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["model", "-set_at"]
        verbose_name_plural = "retraining policies"
        constraints = [
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(superseded_at__isnull=True),
                name="%(app_label)s_%(class)s_one_current",
                violation_error_message="This model already has a current retraining policy.",
            ),
            decimal_check("accuracy_floor", name="%(app_label)s_%(class)s_floor_decimal", blank=True),
            models.CheckConstraint(
                condition=Q(accuracy_floor="") | ~Q(accuracy_metric=""),
                name="%(app_label)s_%(class)s_floor_names_metric",
                violation_error_message="An accuracy floor names the metric it applies to.",
            ),
        ]

    def __str__(self) -> str:
        return f"retraining policy of {self.model}"


class CiEvidence(models.Model):
    """A CI run's JUnit test report for a version: its SHA-256, its counts, and where to find it.

    `passed` is judged here from the parsed report (at least one test, no failure, no error); the
    counts are null only on evidence recorded before reports were parsed.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="ci_evidence")
    run_id = models.CharField(max_length=200)
    url = models.CharField(max_length=1000, blank=True)
    test_report_sha256 = sha256_field()
    passed = models.BooleanField()
    tests = models.PositiveIntegerField(null=True)
    failures = models.PositiveIntegerField(null=True)
    errors = models.PositiveIntegerField(null=True)
    skipped = models.PositiveIntegerField(null=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField()
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["version", "posted_at"]
        verbose_name_plural = "CI evidence"
        constraints = [
            sha256_check("test_report_sha256", name="%(app_label)s_%(class)s_report_sha256_hex"),
            url_check("url", name="%(app_label)s_%(class)s_url"),
        ]
        indexes = [
            # The CI gate reads the latest evidence of a version.
            models.Index(fields=["version", "posted_at"], name="gov_ci_version_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.version} CI {self.run_id}: {'passed' if self.passed else 'failed'}"


class ObservationKind(models.TextChoices):
    FEATURE_DRIFT = "feature_drift", "Input drift of a feature"
    PREDICTION_DRIFT = "prediction_drift", "Prediction distribution shift"
    PERFORMANCE = "performance", "Live accuracy or AUC"
    VOLUME = "volume", "Volume"


class Observation(models.Model):
    """One monitoring measurement of a deployed version over a time window.

    Drift carries PSI and KS (decimal strings), posted or computed here from binned reference
    and live counts (`bins`); performance carries `metric` and `value`; volume carries `count`.
    The evaluation job fills `evaluated_at`, `breached` and `alert` once, claiming the row.
    """

    Kind = ObservationKind

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="observations")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="observations")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="observations")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    feature = models.CharField(max_length=200, blank=True)
    metric = models.CharField(max_length=100, blank=True)
    slice = models.CharField(max_length=200, blank=True)
    value = decimal_field(blank=True)
    psi = decimal_field(blank=True)
    ks = decimal_field(blank=True)
    count = models.PositiveBigIntegerField(null=True, blank=True)
    # {"reference": [counts], "live": [counts], "edges": [...] (optional, informative)}
    bins = models.JSONField(null=True, blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField()
    evaluated_at = models.DateTimeField(null=True, blank=True)
    breached = models.BooleanField(null=True, blank=True)
    # What it was judged against, e.g. "psi > 0.25"; empty when nothing applied.
    judged_against = models.CharField(max_length=300, blank=True)
    alert = models.ForeignKey("Alert", on_delete=models.PROTECT, null=True, blank=True, related_name="observations")
    ledger_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-window_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "kind", "feature", "metric", "slice", "window_start", "window_end"],
                name="%(app_label)s_%(class)s_one_per_window",
                violation_error_message="That deployment already has this observation for that window.",
            ),
            choices_check("kind", ObservationKind, name="%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")),
                name="%(app_label)s_%(class)s_window_ordered",
                violation_error_message="A window ends after it starts.",
            ),
            decimal_check("value", name="%(app_label)s_%(class)s_value_decimal", blank=True),
            decimal_check("psi", name="%(app_label)s_%(class)s_psi_decimal", blank=True),
            decimal_check("ks", name="%(app_label)s_%(class)s_ks_decimal", blank=True),
        ]
        indexes = [
            # The evaluation job claims unevaluated observations, oldest first.
            models.Index(
                fields=["id"],
                condition=Q(evaluated_at__isnull=True),
                name="gov_obs_unevaluated_idx",
            ),
            # The unmonitored check and the status page read a deployment's latest observation.
            models.Index(fields=["deployment", "posted_at"], name="gov_obs_deployment_time_idx"),
            # Retraining's drift and accuracy rules read a deployment's latest windows of a kind.
            models.Index(fields=["deployment", "kind", "window_end"], name="gov_obs_deployment_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.kind} {self.feature or self.metric} @ {self.window_end:%Y-%m-%d %H:%M}"


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
