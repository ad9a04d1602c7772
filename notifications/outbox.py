"""Post messages: create their in-app notifications and e-mails, each exactly once.

Producers (event handlers, reminder scans, the digest) describe what to say as ``Message``s;
``post`` inserts them with their de-duplication keys (a unique constraint, conflicts ignored),
renders the e-mail of each new notification whose recipient wants it, and returns the ids of
e-mails waiting to be sent. Running ``post`` twice with the same messages changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.models import KIND_CATEGORY, Category, EmailDelivery, Notification, Preference
from qi.models import User

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class Message:
    """One thing to tell one person; ``key`` names the object and period it is about."""

    recipient_id: int
    kind: str
    key: str
    title: str
    body: str = ""
    url: str = ""
    project_id: int | None = None
    template: str = "notification"
    context: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def dedup_key(self) -> str:
        return f"{self.kind}:{self.recipient_id}:{self.key}"

    @property
    def category(self) -> str:
        return KIND_CATEGORY[self.kind]


def preference_of(user: User) -> Preference:
    """The user's saved preferences, or the defaults (unsaved) when they never changed any."""
    try:
        return user.notification_preference
    except Preference.DoesNotExist:
        return Preference(user=user)


def unsubscribe_token(user_id: int, category: str) -> str:
    return signing.dumps({"u": user_id, "c": category}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """Return (user id, category); raises signing.BadSignature for a forged or damaged token."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("c") not in Category.values or not isinstance(data.get("u"), int):
        raise signing.BadSignature("Malformed unsubscribe token.")
    return data["u"], data["c"]


def absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}" if path.startswith("/") else path


def render_email(message: Message, recipient: User) -> EmailDelivery:
    """Render subject, text and HTML bodies from emails/<template>-subject.txt, -body.txt, -body.html."""
    unsubscribe_url = absolute(
        reverse("notifications:unsubscribe", args=[unsubscribe_token(recipient.pk, message.category)])
    )
    context = {
        "recipient": recipient,
        "message": message,
        "url": absolute(message.url) if message.url else "",
        "site_url": settings.SITE_URL.rstrip("/"),
        "unsubscribe_url": unsubscribe_url,
        "category_label": Category(message.category).label,
        **message.context,
    }
    name = f"emails/{message.template}"
    subject = " ".join(render_to_string(f"{name}-subject.txt", context).split())
    return EmailDelivery(
        to=recipient.email,
        subject=subject[:300],
        text_body=render_to_string(f"{name}-body.txt", context),
        html_body=render_to_string(f"{name}-body.html", context),
        unsubscribe_url=unsubscribe_url,
    )


def _unique(messages: Iterable[Message]) -> dict[str, Message]:
    by_key: dict[str, Message] = {}
    for message in messages:
        by_key.setdefault(message.dedup_key, message)
    return by_key


@transaction.atomic
def post(messages: Sequence[Message]) -> list[int]:
    """Create the notifications and e-mails not made before; return ids of e-mails still to send."""
    by_key = _unique(messages)
    # A recipient deleted since the messages were made would break the whole insert.
    existing = set(User.objects.filter(pk__in={m.recipient_id for m in by_key.values()}).values_list("pk", flat=True))
    by_key = {key: m for key, m in by_key.items() if m.recipient_id in existing}
    if not by_key:
        return []
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=m.recipient_id,
                kind=m.kind,
                dedup_key=key,
                title=m.title[:300],
                body=m.body,
                url=m.url,
                project_id=m.project_id,
            )
            for key, m in by_key.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    without_email = list(
        Notification.objects.filter(dedup_key__in=by_key, email__isnull=True).values_list("pk", "dedup_key")
    )
    if without_email:
        recipient_ids = {by_key[key].recipient_id for _, key in without_email}
        recipients = User.objects.filter(pk__in=recipient_ids, is_active=True).select_related("notification_preference")
        recipients_by_id = {user.pk: user for user in recipients}
        deliveries = []
        for notification_id, key in without_email:
            message = by_key[key]
            recipient = recipients_by_id.get(message.recipient_id)
            if recipient is None or not recipient.email or not preference_of(recipient).wants_email(message.category):
                continue
            delivery = render_email(message, recipient)
            delivery.notification_id = notification_id
            deliveries.append(delivery)
        EmailDelivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=500)
    return list(
        EmailDelivery.objects.filter(notification__dedup_key__in=by_key, status=EmailDelivery.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
