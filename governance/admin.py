"""Governance records in Django admin: read-only; changes go through services only."""

from django.contrib import admin

from governance import models
from ledger.admin import ReadOnlyAdmin


@admin.register(models.RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name", "risk_tier", "regulated_use", "owner"]
    list_filter = ["risk_tier", "regulated_use"]
    search_fields = ["slug", "name"]


@admin.register(models.ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["model", "version", "status", "registered_by", "registered_at"]
    list_filter = ["status"]
    search_fields = ["model__slug", "version"]


@admin.register(models.Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "sha256", "size_bytes", "registered_at"]
    search_fields = ["name", "sha256"]


@admin.register(models.Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["version", "signer_name", "signer_role", "meaning", "signed_at"]
    list_filter = ["meaning"]


@admin.register(models.Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["model", "version", "environment", "started_at", "ended_at"]
    list_filter = ["environment"]


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["model", "decision_id", "version", "occurred_at", "output_label", "mode"]
    list_filter = ["mode", "overridden"]
    search_fields = ["decision_id"]


for model in (
    models.ModelCard,
    models.StatusChange,
    models.OwnershipTransfer,
    models.DecisionReview,
    models.VersionDataset,
):
    admin.site.register(model, ReadOnlyAdmin)
