"""``manage.py notify_now``: reminders, digests and recovery of stuck e-mails, queued or run here with --sync.

Time is frozen on Monday 2 March 2026 (the digest weekday) before the trust is built, so the
milestone plan of the active project has known dates.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications import outbox
from notifications.management.commands.notify_now import digest_recipients
from notifications.models import EmailDelivery, Kind, Notification, Preference
from notifications.outbox import Message

LONDON = zoneinfo.ZoneInfo("Europe/London")
MONDAY = dt.date(2026, 3, 2)
WEDNESDAY = dt.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON), tick=False)


def notify_now(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("notify_now", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def first_overdue_day(project) -> dt.date:
    """The day after the project's first milestone falls due: the team's first overdue reminder."""
    return project.milestones.order_by("due_on").first().due_on + dt.timedelta(days=1)


# --- Reminders ----------------------------------------------------------------------------------------


def test_reminders_with_sync_post_notifications_and_send_their_emails_here(trust, active_project):
    day = first_overdue_day(active_project)
    out, err = notify_now("reminders", "--sync", "--date", day.isoformat())
    overdue = Notification.objects.filter(kind=Kind.MILESTONE_OVERDUE)
    assert set(overdue.values_list("recipient__full_name", flat=True)) == {"Alice", "Bob"}
    total = Notification.objects.count()
    assert f"{total} notifications ({total} new)" in out
    assert f"{len(mail.outbox)} e-mails sent, 0 failed, 0 left queued" in out
    assert {"alice@riverside.nhs.uk", "bob@riverside.nhs.uk"} <= {m.to[0] for m in mail.outbox}
    assert not EmailDelivery.objects.exclude(status=EmailDelivery.Status.SENT).exists()
    assert err == ""


def test_reminders_run_twice_post_and_send_nothing_more(trust, active_project):
    day = first_overdue_day(active_project).isoformat()
    notify_now("reminders", "--sync", "--date", day)
    sent, total = len(mail.outbox), Notification.objects.count()
    out, _ = notify_now("reminders", "--sync", "--date", day)
    assert f"{total} notifications (0 new); 0 e-mails sent" in out
    assert (len(mail.outbox), Notification.objects.count()) == (sent, total)


def test_reminders_without_sync_are_queued_for_the_worker(trust, active_project, django_capture_on_commit_callbacks):
    day = first_overdue_day(active_project)
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = notify_now("reminders", "--date", day.isoformat())
    assert "a Celery worker will pick it up" in out
    # Tests run tasks eagerly, so the "worker" has already done it.
    assert Notification.objects.filter(kind=Kind.MILESTONE_OVERDUE, recipient=trust.bob).exists()
    assert "bob@riverside.nhs.uk" in {m.to[0] for m in mail.outbox}


def test_reminders_default_to_today(trust, active_project):
    out, _ = notify_now("reminders", "--sync")
    assert "Reminders for 02 March 2026" in out


# --- Digest -------------------------------------------------------------------------------------------


def test_the_digest_with_sync_on_its_weekday_posts_and_sends_digests(trust, active_project):
    out, _ = notify_now("digest", "--sync", "--date", MONDAY.isoformat())
    digests = Notification.objects.filter(kind=Kind.DIGEST)
    readers = set(digests.values_list("recipient__full_name", flat=True))
    assert {"Alice", "Bob"} <= readers  # their milestone is due within the digest's horizon
    assert "Charlie" not in readers
    assert set(digests.values_list("dedup_key", flat=True)) == {
        f"digest:{pk}:weekly:2026-W10" for pk in digests.values_list("recipient_id", flat=True)
    }
    assert f"{digests.count()} notifications ({digests.count()} new)" in out
    assert f"{digests.count()} e-mails sent" in out
    assert len(mail.outbox) == digests.count()


def test_the_digest_is_not_built_on_another_day_unless_forced(trust, active_project):
    out, _ = notify_now("digest", "--sync", "--date", WEDNESDAY.isoformat())
    assert "No digest is due on Wednesday 04 March 2026" in out
    assert "weekly ones go on Mondays" in out
    assert not Notification.objects.exists()


def test_a_forced_digest_goes_on_any_day_to_everyone_but_those_who_turned_it_off(trust, active_project):
    Preference.objects.create(user=trust.bob, digest="off")
    out, _ = notify_now("digest", "--sync", "--force", "--date", WEDNESDAY.isoformat())
    readers = set(Notification.objects.filter(kind=Kind.DIGEST).values_list("recipient__full_name", flat=True))
    assert "Alice" in readers
    assert "Bob" not in readers
    assert "forced" in out
    assert Notification.objects.get(recipient=trust.alice, kind=Kind.DIGEST).dedup_key.endswith(":weekly:2026-W10")


def test_a_forced_digest_is_not_sent_twice_in_the_same_week(trust, active_project):
    notify_now("digest", "--sync", "--force", "--date", WEDNESDAY.isoformat())
    sent = len(mail.outbox)
    assert sent > 0
    out, _ = notify_now("digest", "--sync", "--date", MONDAY.isoformat())  # the Monday of that week
    assert "(0 new)" in out
    assert len(mail.outbox) == sent


def test_forced_recipients_are_active_users_with_an_address_and_an_organisation(trust):
    Preference.objects.create(user=trust.dora, digest="off")
    trust.quinn.is_active = False
    trust.quinn.save()
    names = set(digest_recipients(WEDNESDAY, force=True).values_list("full_name", flat=True))
    assert names == {"Alice", "Bob", "Sam", "Olga", "Ursula", "Charlie"}
    assert not digest_recipients(WEDNESDAY).exists()


def test_the_digest_without_sync_is_queued_for_the_worker(trust, active_project):
    out, _ = notify_now("digest", "--date", MONDAY.isoformat())
    assert "Queued the digest for 02 March 2026; a Celery worker will pick it up." in out
    assert Notification.objects.filter(kind=Kind.DIGEST, recipient=trust.alice).exists()


def test_a_forced_digest_without_sync_queues_one_task_per_batch(trust, active_project, settings):
    settings.NOTIFICATIONS_DIGEST_BATCH_SIZE = 2
    out, _ = notify_now("digest", "--force", "--date", WEDNESDAY.isoformat())
    assert "Queued digests for 8 people on 04 March 2026 (4 tasks)" in out
    assert Notification.objects.filter(kind=Kind.DIGEST, recipient=trust.alice).exists()


# --- Requeue --------------------------------------------------------------------------------------------


@pytest.fixture
def stalled(trust) -> EmailDelivery:
    """An e-mail claimed by a worker that died 20 minutes ago."""
    [delivery_id] = outbox.post(
        [Message(recipient_id=trust.alice.pk, kind=Kind.MEMBER_ADDED, key="project:1", title="You joined")]
    )
    EmailDelivery.objects.filter(pk=delivery_id).update(
        status=EmailDelivery.Status.SENDING,
        claimed_by="dead-worker",
        claimed_at=timezone.now() - dt.timedelta(minutes=20),
        attempts=1,
    )
    return EmailDelivery.objects.get(pk=delivery_id)


def test_requeue_with_sync_recovers_a_stalled_email_and_sends_it_here(stalled):
    out, _ = notify_now("requeue", "--sync")
    stalled.refresh_from_db()
    assert stalled.status == EmailDelivery.Status.SENT
    assert stalled.claimed_by.startswith("notify_now-")
    assert [m.to for m in mail.outbox] == [["alice@riverside.nhs.uk"]]
    assert "Recovered 1 stalled or lost e-mail(s): 1 e-mails sent, 0 failed, 0 left queued." in out


def test_requeue_without_sync_hands_the_stalled_email_to_the_worker(stalled):
    out, _ = notify_now("requeue")
    assert "Queued the recovery of stalled e-mails" in out
    stalled.refresh_from_db()
    assert (stalled.status, stalled.claimed_by) == (EmailDelivery.Status.QUEUED, "")


# --- Mail server trouble and bad arguments -----------------------------------------------------------------


class DeadConnection:
    def open(self):
        raise ConnectionRefusedError("Connection refused")

    def close(self):
        pass


def test_a_mail_server_outage_leaves_the_emails_queued_for_the_worker(trust, active_project, monkeypatch):
    monkeypatch.setattr("notifications.delivery.get_connection", lambda **kwargs: DeadConnection())
    day = first_overdue_day(active_project)
    out, err = notify_now("reminders", "--sync", "--date", day.isoformat())
    queued = EmailDelivery.objects.filter(status=EmailDelivery.Status.QUEUED)
    assert queued.exists()
    assert not EmailDelivery.objects.exclude(status=EmailDelivery.Status.QUEUED).exists()
    assert f"0 e-mails sent, 0 failed, {queued.count()} left queued" in out
    assert "Connection refused" in err
    assert "Connection refused" in queued.first().last_error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reminders", "--force"], "--force only applies to digest."),
        (["requeue", "--date", "2026-03-02"], "--date does not apply to requeue"),
        (["digest", "--date", "02/03/2026"], "'02/03/2026' is not a date in the form YYYY-MM-DD."),
        (["everything"], "invalid choice: 'everything'"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(db, args, message):
    with pytest.raises(CommandError, match=message):
        notify_now(*args)
    assert not Notification.objects.exists()
