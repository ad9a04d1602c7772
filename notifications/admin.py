"""Django admin for notifications: look up what was said to whom, see why e-mails failed, send them again.

Notifications and e-mails are written by the notifications modules, never by hand, so both are
read-only here; the one change an administrator makes is "Queue again" on failed e-mails once
the cause (an address, the mail server) is fixed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from notifications import tasks
from notifications.models import EmailDelivery, Notification, Preference


class _ReadOnlyAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ReadFilter(admin.SimpleListFilter):
    title = "read"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("yes", "Read"), ("no", "Unread")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


@admin.register(Notification)
class NotificationAdmin(_ReadOnlyAdmin):
    list_display = ("recipient", "kind", "title", "created_at", "read_at", "email_status")
    list_select_related = ("recipient", "email")
    list_filter = ("kind", ReadFilter)
    search_fields = ("recipient__email", "title", "dedup_key")
    date_hierarchy = "created_at"

    @admin.display(description="e-mail", ordering="email__status")
    def email_status(self, obj: Notification) -> str:
        try:
            return obj.email.get_status_display()
        except EmailDelivery.DoesNotExist:
            return "none"


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(_ReadOnlyAdmin):
    list_display = ("to", "subject", "status", "attempts", "sent_at", "short_error")
    list_filter = ("status",)
    search_fields = ("to", "subject", "notification__dedup_key", "last_error")
    date_hierarchy = "created_at"
    actions = ["queue_again"]

    @admin.display(description="last error")
    def short_error(self, obj: EmailDelivery) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.action(description="Queue again (failed e-mails only)", permissions=["change"])
    def queue_again(self, request: HttpRequest, queryset: QuerySet[EmailDelivery]) -> None:
        failed = list(queryset.filter(status=EmailDelivery.Status.FAILED).order_by("pk").values_list("pk", flat=True))
        # Conditional on FAILED, so an e-mail being sent or already sent is never queued twice.
        EmailDelivery.objects.filter(pk__in=failed, status=EmailDelivery.Status.FAILED).update(
            status=EmailDelivery.Status.QUEUED, claimed_by="", claimed_at=None, attempts=0
        )
        tasks.queue_sending(failed)
        skipped = queryset.count() - len(failed)
        note = f" {skipped} that had not failed were left alone." if skipped else ""
        self.message_user(request, f"Queued {len(failed)} e-mail(s) again.{note}", messages.SUCCESS)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "email_activity",
        "email_reminders",
        "first_reminder_days",
        "second_reminder_days",
        "digest",
        "updated_at",
    )
    list_select_related = ("user",)
    list_filter = ("email_activity", "email_reminders", "digest")
    search_fields = ("user__email", "user__full_name")
    autocomplete_fields = ("user",)
