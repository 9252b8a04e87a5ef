"""The ledger in Django admin: browsable by staff, never editable."""

from django.contrib import admin

from ledger.models import Checkpoint, Entry, SigningKey, Submission, WitnessAlert


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look; every change goes through services, so admin offers none."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "idempotency_key"]
    search_fields = ["idempotency_key"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "signed_at", "key"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "name", "development", "valid_from", "valid_until"]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "idempotency_key", "submitted_at"]


@admin.register(WitnessAlert)
class WitnessAlertAdmin(ReadOnlyAdmin):
    list_display = ["witness", "reason", "opened_at", "resolved_at", "summary"]
    list_filter = ["reason"]
