"""Production gates' evidence and monitoring: thresholds, policies, CI evidence, observations.

Alerts, retraining requests and notifications are in governance.models.alerts.

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
