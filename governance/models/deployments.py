"""Deployments: which version served which environment, from when to when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from governance.models.registry import ModelVersion, RegisteredModel


class Deployment(models.Model):
    """A version serving an environment from `started_at` until `ended_at` (open while null).

    A rollback is a deployment of an earlier approved version that names the deployment it
    replaced in `rollback_of`. At most one open deployment per model and environment.
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="deployments")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    environment = models.SlugField(max_length=50)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    end_reason = models.TextField(blank=True)
    rollback_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rolled_back_by"
    )
    change_ticket = models.CharField(max_length=200, blank=True)
    ci_run_id = models.CharField(max_length=200, blank=True)
    config_version = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    # The production gates as evaluated when the deployment was made.
    gates = models.JSONField(default=list, blank=True)
    ledger_key = models.CharField(max_length=200, unique=True)
    end_ledger_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "environment"],
                condition=Q(ended_at__isnull=True),
                name="%(app_label)s_%(class)s_one_open_per_environment",
                violation_error_message="That environment already has an open deployment.",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A deployment cannot end before it starts.",
            ),
        ]
        indexes = [
            # "Which version served environment E at time T": by model, environment, start.
            models.Index(fields=["model", "environment", "started_at"], name="gov_deploy_env_time_idx"),
            # Decision logging checks the version was deployed at occurred_at.
            models.Index(fields=["version", "started_at"], name="gov_deploy_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.version} in {self.environment}"
