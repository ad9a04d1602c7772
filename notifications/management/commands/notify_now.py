"""``manage.py notify_now reminders|digest|requeue``: run now what beat runs on its schedule.

Without ``--sync`` the task is queued for a Celery worker, exactly as beat would queue it. With
``--sync`` everything happens in this process, e-mails included, which is what a demo or an
operator without a running worker needs. Reminders and digests are de-duplicated by key, so
running this as well as beat never sends anything twice. The digest goes out only on its
weekday (weekly) or the 1st (monthly); ``--force`` builds it for everyone who has not turned
it off, on any day, keyed by the period as usual so a forced digest is not sent again that week.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications import delivery, digest, outbox, scans, tasks
from notifications.models import DigestFrequency, EmailDelivery, Notification
from notifications.outbox import Message
from qi.models import User

POST_BATCH_SIZE = 2000  # messages per outbox.post, as the reminder task does


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in the form YYYY-MM-DD.") from None


def digest_recipients(on: dt.date, *, force: bool = False) -> QuerySet[User]:
    """Who gets a digest on this date; with ``force``, everyone who has not turned digests off."""
    if not force:
        return digest.recipients(on)
    wanted = Q(notification_preference__isnull=True) | Q(
        notification_preference__digest__in=[DigestFrequency.WEEKLY, DigestFrequency.MONTHLY]
    )
    return User.objects.filter(wanted, is_active=True, organisation__isnull=False).exclude(email="").order_by("pk")


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Outcome:
    """What a synchronous run produced."""

    notifications: int = 0
    new_notifications: int = 0
    delivery_ids: list[int] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    left_queued: int = 0
    mail_error: str = ""

    def post(self, messages: Sequence[Message]) -> None:
        """Post messages, counting how many notifications they are and how many did not exist before."""
        keys = list({message.dedup_key for message in messages})
        if not keys:
            return
        before = Notification.objects.filter(dedup_key__in=keys).count()
        self.delivery_ids += outbox.post(messages)
        self.notifications += len(keys)
        self.new_notifications += Notification.objects.filter(dedup_key__in=keys).count() - before

    def send(self, delivery_ids: list[int]) -> None:
        """Send e-mails here in batches; if the mail server fails, hand what is left to the worker."""
        claimant = f"notify_now-{uuid.uuid4().hex[:16]}"  # unique, so two runs never share claims
        size = settings.NOTIFICATIONS_EMAIL_BATCH_SIZE
        for start in range(0, len(delivery_ids), size):
            try:
                result = delivery.send_batch(delivery_ids[start : start + size], claimant=claimant)
            except delivery.TransientEmailError as exc:
                tasks.queue_sending(delivery_ids[start:])  # the worker retries with back-off; claims stop doubles
                self.mail_error = str(exc) or exc.__class__.__name__
                break
            self.sent += len(result.sent)
            self.failed += len(result.failed)
        self.left_queued = len(delivery_ids) - self.sent - self.failed


class Command(BaseCommand):
    help = (
        "Run the reminder scan, the learning digest or the recovery of stalled e-mails now. "
        "Queues the task for a worker, or runs it here with --sync."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("what", choices=["reminders", "digest", "requeue"], help="what to run")
        parser.add_argument("--date", type=parse_date, help="the day to run for, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--sync", action="store_true", help="run in this process, e-mails included, instead of queueing"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="digest only: build digests for everyone who has not turned them off, whatever the day",
        )

    def handle(self, *args: Any, what: str, date: dt.date | None, sync: bool, force: bool, **options: Any) -> None:
        if force and what != "digest":
            raise CommandError("--force only applies to digest.")
        if date and what == "requeue":
            raise CommandError("--date does not apply to requeue: it recovers whatever is stuck now.")
        if what == "reminders":
            self.reminders(date, sync=sync)
        elif what == "digest":
            self.digest(date or timezone.localdate(), sync=sync, force=force)
        else:
            self.requeue(sync=sync)

    def reminders(self, date: dt.date | None, *, sync: bool) -> None:
        on = date or timezone.localdate()
        if not sync:
            tasks.scan_reminders.delay(date.isoformat() if date else None)
            self._queued(f"the reminder scan for {on:%d %B %Y}")
            return
        # As the task does: a scan for a given day runs as if at 7 in the morning of that day.
        now = timezone.make_aware(dt.datetime.combine(on, dt.time(7))) if date else timezone.now()
        outcome = Outcome()
        for messages in scans.reminder_messages(on, now):
            for batch in _chunks(messages, POST_BATCH_SIZE):
                outcome.post(batch)
        outcome.send(outcome.delivery_ids)
        self._report(f"Reminders for {on:%d %B %Y}", outcome)

    def digest(self, on: dt.date, *, sync: bool, force: bool) -> None:
        if not force and not digest.due_frequencies(on):
            weekday = dt.date(2024, 1, 1 + settings.NOTIFICATIONS_DIGEST_WEEKDAY).strftime("%A")  # 1 Jan 2024: Monday
            self.stdout.write(
                f"No digest is due on {on:%A %d %B %Y} (weekly ones go on {weekday}s, monthly ones on the 1st). "
                "Use --force to build them anyway."
            )
            return
        if not sync and not force:
            tasks.send_digests.delay(on.isoformat())
            self._queued(f"the digest for {on:%d %B %Y}")
            return
        user_ids = list(digest_recipients(on, force=force).values_list("pk", flat=True))
        batches = list(_chunks(user_ids, settings.NOTIFICATIONS_DIGEST_BATCH_SIZE))
        if not sync:
            for batch in batches:
                tasks.build_digests.delay(list(batch), on.isoformat())
            self._queued(f"digests for {len(user_ids)} people on {on:%d %B %Y} ({len(batches)} tasks)")
            return
        outcome = Outcome()
        for batch in batches:
            outcome.post(digest.build(batch, on, frequency=DigestFrequency.WEEKLY if force else None))
        outcome.send(outcome.delivery_ids)
        forced = ", forced" if force else ""
        self._report(f"Digests for {on:%d %B %Y} ({len(user_ids)} people considered{forced})", outcome)

    def requeue(self, *, sync: bool) -> None:
        if not sync:
            tasks.requeue_stalled.delay()
            self._queued("the recovery of stalled e-mails")
            return
        recovered = tasks.requeue_stalled()
        # Send everything waiting, here; a worker that also got them finds them claimed or sent.
        outcome = Outcome()
        waiting = EmailDelivery.objects.filter(status=EmailDelivery.Status.QUEUED).order_by("pk")
        outcome.send(list(waiting.values_list("pk", flat=True)))
        self._report(f"Recovered {recovered} stalled or lost e-mail(s)", outcome, with_notifications=False)

    def _queued(self, what: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"Queued {what}; a Celery worker will pick it up."))

    def _report(self, title: str, outcome: Outcome, *, with_notifications: bool = True) -> None:
        parts = []
        if with_notifications:
            parts.append(f"{outcome.notifications} notifications ({outcome.new_notifications} new)")
        parts.append(f"{outcome.sent} e-mails sent, {outcome.failed} failed, {outcome.left_queued} left queued")
        self.stdout.write(self.style.SUCCESS(f"{title}: {'; '.join(parts)}."))
        if outcome.mail_error:
            self.stderr.write(
                self.style.WARNING(
                    f"The mail server failed ({outcome.mail_error}); the e-mails not sent were handed to the "
                    "worker, which retries with back-off."
                )
            )
