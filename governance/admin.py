"""Governance records in Django admin: read-only; changes go through services only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest

from governance import models
from governance.services.identity import users as identity_users
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


@admin.register(models.RoleGrant)
class RoleGrantAdmin(ReadOnlyAdmin):
    """Officer proposals and grants: read here; proposed and confirmed in the console, API or commands."""

    list_display = ["grantee", "role", "state", "bootstrap", "proposed_by", "decided_by", "decided_at"]
    list_filter = ["state", "bootstrap"]


# --- People: Django's user admin, with the identity rules checked before anything is saved ---
# Every change made here is logged by the identity signals (governance.signals) as the signed-in
# administrator; these checks turn a refusal into a form error instead of a failed request.


class IdentityRules:
    """A form mixin refusing, as form errors, the changes the identity rules forbid on every path."""

    request: HttpRequest | None = None

    def clean(self) -> dict:
        cleaned = super().clean()
        if "groups" not in cleaned:
            return cleaned
        before = set(self.instance.groups.all()) if self.instance.pk else set()
        added = {group.name for group in cleaned["groups"]} - {group.name for group in before}
        acting = self.request.user if self.request is not None else None
        problem = identity_users.grant_problem(acting, self.instance, added)
        if problem:
            self.add_error("groups", problem)
        return cleaned


class UserAdmin(DjangoUserAdmin):
    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        return type("UserChangeForm", (IdentityRules, form), {"request": request})


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
