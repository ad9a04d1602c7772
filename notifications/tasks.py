"""Celery tasks: thin wrappers that take ids, call the notifications modules, and queue e-mails.

Every task is safe to run twice (messages are de-duplicated by key, e-mails claimed before
sending) and acknowledges late, so a worker killed mid-task has its task redelivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications import delivery, digest, event_messages, outbox, scans
from notifications.models import EmailDelivery

logger = logging.getLogger(__name__)
# Longer than a task's hard time limit, so a claim this old belongs to a dead worker.
STALLED_CLAIM_MINUTES = max(15, settings.CELERY_TASK_TIME_LIMIT // 60 + 5)
RETRY_GIVE_UP_MINUTES = 65  # longer than the longest retry back-off: that retry task was lost
QUEUED_GRACE_MINUTES = 5  # a queued e-mail older than this lost its send task


def _date(on: str | None) -> dt.date:
    return dt.date.fromisoformat(on) if on else timezone.localdate()


def queue_sending(delivery_ids: list[int]) -> int:
    """Hand e-mails to send_emails in batches, once the current transaction commits."""
    size = settings.NOTIFICATIONS_EMAIL_BATCH_SIZE
    batches = [delivery_ids[i : i + size] for i in range(0, len(delivery_ids), size)]
    for batch in batches:
        transaction.on_commit(lambda batch=batch: send_emails.delay(batch))
    return len(batches)


@shared_task(acks_late=True)
def notify_event(event: str, ids: dict) -> int:
    """Post the notifications of one workflow event; return how many e-mails were queued."""
    delivery_ids = outbox.post(event_messages.HANDLERS[event](**ids))
    queue_sending(delivery_ids)
    return len(delivery_ids)


@shared_task(acks_late=True)
def scan_reminders(on: str | None = None) -> int:
    """The daily reminder scan (due, overdue, reviews waiting, rotation handovers)."""
    today = _date(on)
    now = timezone.now() if on is None else timezone.make_aware(dt.datetime.combine(today, dt.time(7)))
    queued = 0
    for messages in scans.reminder_messages(today, now):
        for start in range(0, len(messages), 2000):
            delivery_ids = outbox.post(messages[start : start + 2000])
            queue_sending(delivery_ids)
            queued += len(delivery_ids)
    logger.info("Reminder scan for %s queued %d e-mails", today, queued)
    return queued


@shared_task(acks_late=True)
def send_digests(on: str | None = None) -> int:
    """Split today's digest recipients into batches, one build_digests task each."""
    today = _date(on)
    user_ids = list(digest.recipients(today).values_list("pk", flat=True))
    size = settings.NOTIFICATIONS_DIGEST_BATCH_SIZE
    for start in range(0, len(user_ids), size):
        build_digests.delay(user_ids[start : start + size], today.isoformat())
    return len(user_ids)


@shared_task(acks_late=True)
def build_digests(user_ids: list[int], on: str) -> int:
    """Build and queue the digests of a batch of users."""
    delivery_ids = outbox.post(digest.build(user_ids, _date(on)))
    queue_sending(delivery_ids)
    return len(delivery_ids)


@shared_task(bind=True, acks_late=True, max_retries=delivery.MAX_ATTEMPTS)
def send_emails(self, delivery_ids: list[int]) -> dict[str, int]:
    """Send one batch over one connection; transient failures retry with back-off."""
    try:
        result = delivery.send_batch(delivery_ids, claimant=self.request.id or f"eager-{uuid.uuid4().hex}")
    except delivery.TransientEmailError as exc:
        if self.request.retries >= self.max_retries:
            logger.error("Giving up on e-mail batch after %d retries: %s", self.request.retries, exc)
            return {"sent": 0, "failed": 0, "requeued": len(delivery_ids)}
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 3600)) from exc
    return {"sent": len(result.sent), "failed": len(result.failed), "requeued": len(result.requeued)}


@shared_task(acks_late=True)
def requeue_stalled(stalled_minutes: int = STALLED_CLAIM_MINUTES, queued_minutes: int = QUEUED_GRACE_MINUTES) -> int:
    """Recover e-mails whose sender died or whose send task was lost; nothing is dropped."""
    now = timezone.now()
    stalled = EmailDelivery.objects.filter(
        status=EmailDelivery.Status.SENDING, claimed_at__lt=now - dt.timedelta(minutes=stalled_minutes)
    )
    stalled_ids = list(stalled.values_list("pk", flat=True))
    stalled.filter(pk__in=stalled_ids).update(status=EmailDelivery.Status.QUEUED, claimed_by="", claimed_at=None)
    # Never attempted and old: its send task was lost. Attempted and given back: its own task retries
    # with back-off, so only take it over once that retry is surely lost (claimed_at = last attempt).
    waiting = EmailDelivery.objects.filter(
        Q(attempts=0, created_at__lt=now - dt.timedelta(minutes=queued_minutes))
        | Q(attempts__gt=0, claimed_at__lt=now - dt.timedelta(minutes=max(queued_minutes, RETRY_GIVE_UP_MINUTES)))
        | Q(attempts__gt=0, claimed_at__isnull=True),
        status=EmailDelivery.Status.QUEUED,
    ).values_list("pk", flat=True)
    ids = sorted(set(stalled_ids) | set(waiting))
    queue_sending(ids)
    return len(ids)
