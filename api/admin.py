"""Admin for the API's tables: revoke a device token (a lost phone), look up what was deleted."""

from __future__ import annotations

from django.contrib import admin

from api.models import DeviceToken, Tombstone


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    """Tokens are made only by logging in; an administrator can see and revoke them, never read one."""

    list_display = ("device_name", "user", "token_key", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("device_name", "token_key", "user__email", "user__full_name")
    readonly_fields = ("device_name", "user", "token_key", "created", "expiry")
    exclude = ("digest",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tombstone)
class TombstoneAdmin(admin.ModelAdmin):
    list_display = ("resource", "object_id", "project_id", "organisation_id", "user_id", "deleted_at")
    list_filter = ("resource",)
    search_fields = ("object_id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
