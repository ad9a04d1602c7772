"""A real Celery worker, Redis and PostgreSQL: reminders and digests are e-mailed exactly once.

Each test builds its data through qi.services (their own workflow e-mails run in-process, as in
the unit tests), then starts a worker in a subprocess on the test database and a queue of its
own, sends it the scheduled task, and reads the e-mails it wrote with the file backend: every
e-mail carries its notification id in ``X-QI-Notification``, so counting those headers shows
whether anything was sent twice or not at all. Skipped unless the suite runs on PostgreSQL with a
Redis broker, as ``.ci/run`` does.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter

import pytest
from django.conf import settings
from django.utils import timezone

from notifications import tasks
from notifications.models import EmailDelivery, Kind, Notification
from qi import services
from qi.models import Milestone, ProjectMembership
from tests.factories import UserFactory
from tests.notifications.worker import Workers, unavailable_reason

_why_not = unavailable_reason()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(_why_not is not None, reason=f"real-worker integration test: {_why_not}"),
]

SENT = EmailDelivery.Status.SENT


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start workers with ``workers.start()``; all are stopped and their queue purged afterwards."""
    manager = Workers(tmp_path)
    yield manager
    manager.close()


def new_notifications(before: set[int]) -> list[Notification]:
    return list(Notification.objects.exclude(pk__in=before).select_related("recipient", "email").order_by("pk"))


def all_sent(notification_ids: list[int]) -> bool:
    deliveries = EmailDelivery.objects.filter(notification_id__in=notification_ids)
    return deliveries.count() == len(notification_ids) and not deliveries.exclude(status=SENT).exists()


def returned(log_line: str) -> str:
    """What a task returned, from the worker's 'succeeded in 0.05s: <result>' line."""
    return log_line.split(": ", 1)[1].strip()


def assert_each_emailed_once(workers: Workers, notifications: list[Notification]) -> None:
    delivered = workers.deliveries()
    expected = Counter({n.pk: 1 for n in notifications})
    twice = {pk: count for pk, count in delivered.items() if count > 1}
    assert not twice, f"e-mailed more than once: {twice}"
    assert delivered == expected, (
        f"missing: {sorted(set(expected) - set(delivered))}, unexpected: {sorted(set(delivered) - set(expected))}"
    )
    by_id = {n.pk: n for n in notifications}
    for message in workers.emails():
        assert message["To"] == by_id[int(message["X-QI-Notification"])].recipient.email


# --- reminders -----------------------------------------------------------------------------------


@pytest.fixture
def reminder_scene(trust, active_project):
    """A milestone due in 7 days, one a day overdue, one waiting 4 days for sam's review.

    The plan's own milestones are moved out of every reminder window, so these three are the
    whole of what the scan finds.
    """
    today = timezone.localdate()
    Milestone.objects.filter(project=active_project).update(due_on=today + dt.timedelta(days=45))

    def add(title: str, days: int) -> Milestone:
        return services.milestone_create(
            actor=trust.alice, project=active_project, title=title, due_on=today + dt.timedelta(days=days)
        )

    add("Baseline data collected", 7)
    add("Process map agreed", -1)
    waiting = add("First PDSA cycle planned", 30)
    services.milestone_submit(actor=trust.alice, milestone=waiting, evidence="PDSA plan signed off by the team")
    Milestone.objects.filter(pk=waiting.pk).update(submitted_at=timezone.now() - dt.timedelta(days=4))
    return {
        ("alice@riverside.nhs.uk", Kind.MILESTONE_DUE),
        ("bob@riverside.nhs.uk", Kind.MILESTONE_DUE),
        ("alice@riverside.nhs.uk", Kind.MILESTONE_OVERDUE),
        ("bob@riverside.nhs.uk", Kind.MILESTONE_OVERDUE),
        ("sam@riverside.nhs.uk", Kind.REVIEW_WAITING),
    }


def test_the_reminder_scan_emails_each_reminder_once(workers, reminder_scene):
    before = set(Notification.objects.values_list("pk", flat=True))
    workers.start()

    finished = workers.wait_for_task(workers.send(tasks.scan_reminders))

    assert returned(finished) == "5"
    notifications = new_notifications(before)
    assert sorted((n.recipient.email, n.kind) for n in notifications) == sorted(reminder_scene)
    workers.wait(lambda: all_sent([n.pk for n in notifications]), "every reminder to be sent")
    workers.wait(workers.idle, "the worker to finish every task it received")
    assert_each_emailed_once(workers, notifications)


def test_a_scan_run_twice_sends_nothing_twice(workers, reminder_scene):
    before = set(Notification.objects.values_list("pk", flat=True))
    workers.start()

    # Back to back, as a beat that fires twice: the second scan runs before the first one's e-mails go.
    first, second = workers.send(tasks.scan_reminders), workers.send(tasks.scan_reminders)
    workers.wait_for_task(first)
    workers.wait_for_task(second)
    notifications = new_notifications(before)
    workers.wait(lambda: all_sent([n.pk for n in notifications]), "every reminder to be sent")
    # And once more after everything went out: nothing new to post, nothing to queue.
    assert returned(workers.wait_for_task(workers.send(tasks.scan_reminders))) == "0"
    workers.wait(workers.idle, "the worker to finish every task it received")

    assert len(notifications) == len(reminder_scene)
    assert new_notifications(before) == notifications
    assert_each_emailed_once(workers, notifications)
    assert set(EmailDelivery.objects.filter(notification__in=notifications).values_list("attempts", flat=True)) == {1}


# --- digests -------------------------------------------------------------------------------------


def digest_day() -> dt.date:
    """The next day weekly digests go out (today, if it is that weekday)."""
    today = timezone.localdate()
    return today + dt.timedelta(days=(settings.NOTIFICATIONS_DIGEST_WEEKDAY - today.weekday()) % 7)


def digest_scene(trust, project, extra_members: int, on: dt.date) -> set[str]:
    """A project team of alice, bob and more doctors, with a milestone overdue on the digest day.

    Each team member has something to read (the overdue milestone); nobody else in the trust
    has. Returns the e-mail addresses that should get a digest.
    """
    for _ in range(extra_members):
        doctor = UserFactory(organisation=trust.organisation)
        services.project_member_add(actor=trust.alice, project=project, user=doctor)
    milestone = project.milestones.order_by("due_on").first()
    Milestone.objects.filter(pk=milestone.pk).update(due_on=on - dt.timedelta(days=3))
    return set(
        ProjectMembership.objects.current().filter(project=project).values_list("user__email", flat=True).distinct()
    )


def test_the_digest_goes_once_to_each_reader_with_text_html_and_unsubscribe(workers, trust, active_project):
    on = digest_day()
    readers = digest_scene(trust, active_project, extra_members=60, on=on)
    before = set(Notification.objects.values_list("pk", flat=True))
    workers.start(NOTIFICATIONS_DIGEST_BATCH_SIZE=25, NOTIFICATIONS_EMAIL_BATCH_SIZE=20)

    finished = workers.wait_for_task(workers.send(tasks.send_digests, on=on.isoformat()))

    assert int(returned(finished)) >= len(readers)  # everyone in the trust is considered; readers have news
    workers.wait(
        lambda: Notification.objects.exclude(pk__in=before).filter(kind=Kind.DIGEST).count() == len(readers),
        f"{len(readers)} digests to be posted",
    )
    notifications = new_notifications(before)
    assert {n.kind for n in notifications} == {Kind.DIGEST}
    assert sorted(n.recipient.email for n in notifications) == sorted(readers)
    workers.wait(lambda: all_sent([n.pk for n in notifications]), "every digest to be sent", timeout=60)
    workers.wait(workers.idle, "the worker to finish every task it received")
    assert_each_emailed_once(workers, notifications)
    for message in workers.emails():
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        assert "overdue" in message.get_body(("plain",)).get_content().lower()
        assert re.fullmatch(r"<https?://\S+/notifications/unsubscribe/\S+/?>", message["List-Unsubscribe"].strip())
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- a worker killed mid-batch -------------------------------------------------------------------


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(workers, trust, active_project):
    on = digest_day()
    readers = digest_scene(trust, active_project, extra_members=38, on=on)
    assert len(readers) == 40
    before = set(Notification.objects.values_list("pk", flat=True))
    settings_env = {
        "NOTIFICATIONS_EMAIL_BATCH_SIZE": 10,
        "NOTIFICATIONS_EMAIL_INTERVAL_MS": 150,  # about 1.5 s a batch: time to kill it half-way
    }
    first = workers.start(**settings_env)
    workers.send(tasks.send_digests, on=on.isoformat())

    # Kill it right after an e-mail of the second batch is marked sent, while the worker sleeps
    # the rate-limit interval: later e-mails of that batch are claimed but not sent.
    digests = EmailDelivery.objects.filter(notification__kind=Kind.DIGEST).exclude(notification__in=before)
    deadline = time.monotonic() + 60
    while True:
        sent = digests.filter(status=SENT).count()
        if sent > 10 and sent % 10:
            killed_at = time.monotonic()
            first.kill()
            break
        assert time.monotonic() < deadline, f"the batch never got going ({sent} sent)\n{workers.log()}"
        time.sleep(0.005)

    claimed = list(digests.filter(status=EmailDelivery.Status.SENDING).values_list("claimed_by", flat=True))
    assert claimed, "the kill was meant to land mid-batch, with e-mails claimed but not sent"
    assert digests.filter(status=EmailDelivery.Status.QUEUED).exists(), "later batches should still be waiting"
    (killed_task,) = set(claimed)
    sent_before_kill = set(digests.filter(status=SENT).values_list("notification_id", flat=True))
    assert set(workers.deliveries()) == sent_before_kill, (
        "the kill landed between writing an e-mail and marking it sent: the one window in which an e-mail can go twice"
    )

    # Redis gives the dead worker's unacknowledged task back once its visibility timeout (3 s) has
    # passed; a worker restores such messages when it starts.
    time.sleep(max(0.0, killed_at + 3.5 - time.monotonic()))
    workers.start(**settings_env)
    # The next beat: the digest again, and the sweep for e-mails whose sender died.
    workers.send(tasks.send_digests, on=on.isoformat())
    workers.send(tasks.requeue_stalled, stalled_minutes=0, queued_minutes=0)

    notifications = new_notifications(before)
    assert sorted(n.recipient.email for n in notifications) == sorted(readers)
    workers.wait(lambda: all_sent([n.pk for n in notifications]), "every digest to be sent", timeout=60)
    workers.wait_for_task(killed_task)  # the killed batch itself came back from Redis and ran
    workers.wait(workers.idle, "the worker to finish every task it received")
    assert new_notifications(before) == notifications  # the second digest run posted nothing new
    assert_each_emailed_once(workers, notifications)
