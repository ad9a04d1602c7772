"""What the product says to people: in-app notifications, their e-mails, and each user's choices.

Every message is a ``Notification`` whose ``dedup_key`` (kind, recipient, object, period) is
unique, so a retried task or a beat that fires twice can never make it twice; its e-mail is an
``EmailDelivery`` that moves QUEUED -> SENDING -> SENT (or FAILED, with the error), claimed by a
conditional update so two workers never send the same one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Category(models.TextChoices):
    """What a person can switch off by e-mail, one unsubscribe link each."""

    ACTIVITY = "activity", "Project activity (submissions, reviews, handovers)"
    REMINDERS = "reminders", "Reminders (due, overdue, reviews waiting, rotation handover)"
    DIGEST = "digest", "Learning digest"


class Kind(models.TextChoices):
    MILESTONE_SUBMITTED = "milestone_submitted", "Milestone submitted for review"
    MILESTONE_APPROVED = "milestone_approved", "Milestone approved"
    MILESTONE_CHANGES_REQUESTED = "milestone_changes_requested", "Changes requested"
    SUPERVISOR_ASSIGNED = "supervisor_assigned", "Supervisor assigned"
    MEMBER_ADDED = "member_added", "Added to a project team"
    PROJECT_HANDED_OVER = "project_handed_over", "Project handed over"
    PROJECT_COMPLETED = "project_completed", "Project completed"
    MILESTONE_DUE = "milestone_due", "Milestone due soon"
    MILESTONE_OVERDUE = "milestone_overdue", "Milestone overdue"
    MILESTONE_OVERDUE_ESCALATION = "milestone_overdue_escalation", "Milestone 14 days overdue"
    REVIEW_WAITING = "review_waiting", "Review waiting"
    REVIEW_ESCALATION = "review_escalation", "Review waiting 10 days"
    HANDOVER_DUE = "handover_due", "Rotation handover due"
    DIGEST = "digest", "Learning digest"


KIND_CATEGORY: dict[str, str] = {
    Kind.MILESTONE_SUBMITTED: Category.ACTIVITY,
    Kind.MILESTONE_APPROVED: Category.ACTIVITY,
    Kind.MILESTONE_CHANGES_REQUESTED: Category.ACTIVITY,
    Kind.SUPERVISOR_ASSIGNED: Category.ACTIVITY,
    Kind.MEMBER_ADDED: Category.ACTIVITY,
    Kind.PROJECT_HANDED_OVER: Category.ACTIVITY,
    Kind.PROJECT_COMPLETED: Category.ACTIVITY,
    Kind.MILESTONE_DUE: Category.REMINDERS,
    Kind.MILESTONE_OVERDUE: Category.REMINDERS,
    Kind.MILESTONE_OVERDUE_ESCALATION: Category.REMINDERS,
    Kind.REVIEW_WAITING: Category.REMINDERS,
    Kind.REVIEW_ESCALATION: Category.REMINDERS,
    Kind.HANDOVER_DUE: Category.REMINDERS,
    Kind.DIGEST: Category.DIGEST,
}


class DigestFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    OFF = "off", "Off"


# What "stop these e-mails" switches off for each category: (Preference field, value when off).
UNSUBSCRIBED = {
    Category.ACTIVITY: ("email_activity", False),
    Category.REMINDERS: ("email_reminders", False),
    Category.DIGEST: ("digest", DigestFrequency.OFF),
}

# Days before a due date a reminder may be sent; a short list keeps the scan to a few queries.
REMINDER_DAY_CHOICES = [(d, f"{d} day{'s' if d != 1 else ''} before") for d in (0, 1, 2, 3, 5, 7, 14)]
DEFAULT_FIRST_REMINDER_DAYS = 7
DEFAULT_SECOND_REMINDER_DAYS = 1


class Preference(models.Model):
    """A user's choices; a user without a row has the defaults (every e-mail, reminders 7 and 1 days, weekly)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_activity = models.BooleanField("e-mail project activity", default=True)
    email_reminders = models.BooleanField("e-mail reminders", default=True)
    first_reminder_days = models.PositiveSmallIntegerField(
        choices=REMINDER_DAY_CHOICES, null=True, blank=True, default=DEFAULT_FIRST_REMINDER_DAYS
    )
    second_reminder_days = models.PositiveSmallIntegerField(
        choices=REMINDER_DAY_CHOICES, null=True, blank=True, default=DEFAULT_SECOND_REMINDER_DAYS
    )
    digest = models.CharField(max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(digest__in=["weekly", "monthly", "off"]), name="preference_digest_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"

    @classmethod
    def turn_off(cls, user, category: str) -> None:
        """Stop one category of e-mails for the user (the unsubscribe link), keeping their other choices."""
        field, value = UNSUBSCRIBED[category]
        preference, created = cls.objects.get_or_create(user=user, defaults={field: value})
        if not created:
            # An update of one column, so a preferences form saved at the same moment loses nothing else.
            cls.objects.filter(pk=preference.pk).update(**{field: value, "updated_at": timezone.now()})

    def wants_email(self, category: str) -> bool:
        if category == Category.ACTIVITY:
            return self.email_activity
        if category == Category.REMINDERS:
            return self.email_reminders
        return self.digest != DigestFrequency.OFF


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def mark_read(self) -> int:
        """Mark the unread ones read (reading twice keeps the first time); return how many changed."""
        now = timezone.now()
        return self.unread().update(read_at=now, updated_at=now)

    def for_user(self, user) -> NotificationQuerySet:
        return self.filter(recipient=user)


class Notification(models.Model):
    """One message to one person, shown in the app; its e-mail (if any) is an EmailDelivery."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    dedup_key = models.CharField(max_length=200, unique=True, help_text="kind:recipient:object:period")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    project = models.ForeignKey("qi.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, help_text="Changes when it is read, for syncing clients.")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}: {self.title}"

    @property
    def category(self) -> str:
        return KIND_CATEGORY[self.kind]


class EmailDelivery(models.Model):
    """The e-mail of a notification, rendered when queued and claimed before sending so it goes out once."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="email")
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    unsubscribe_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="Celery task id holding the claim")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "e-mail deliveries"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sending", "sent", "failed"]), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="delivery_sent_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.get_status_display()}"
