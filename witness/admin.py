from django.contrib import admin

from witness.models import Refusal, WitnessedLog


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WitnessedLog)
class WitnessedLogAdmin(ReadOnly):
    list_display = ["origin", "size", "updated_at"]


@admin.register(Refusal)
class RefusalAdmin(ReadOnly):
    list_display = ["origin", "status", "reason", "received_at"]
