"""Sending over a real SMTP connection: claims, one connection per batch, transient and permanent errors."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from notifications import delivery, outbox, tasks
from notifications.models import EmailDelivery, Kind
from notifications.outbox import Message
from tests.notifications import smtp_sink

Status = EmailDelivery.Status


@pytest.fixture
def sink(settings):
    sink = smtp_sink.Sink()
    server = smtp_sink.start(sink)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_TIMEOUT = 5
    yield sink
    server.shutdown()
    server.server_close()


@pytest.fixture
def queued(trust) -> list[int]:
    people = [trust.alice, trust.bob, trust.sam, trust.dora]
    return outbox.post(
        [
            Message(recipient_id=p.pk, kind=Kind.MILESTONE_DUE, key="milestone:1:due:7", title=f"Hello {p}")
            for p in people
        ]
    )


def statuses(ids) -> list[str]:
    return list(EmailDelivery.objects.filter(pk__in=ids).order_by("pk").values_list("status", flat=True))


def test_a_batch_goes_over_one_connection_and_each_email_once(sink, queued):
    result = delivery.send_batch(queued, claimant="task-1")
    assert len(result.sent) == 4 and sink.connections == 1
    assert sorted(m["To"] for m in sink.received) == [
        "alice@riverside.nhs.uk",
        "bob@riverside.nhs.uk",
        "dora@riverside.nhs.uk",
        "sam@riverside.nhs.uk",
    ]
    message = sink.received[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert statuses(queued) == [Status.SENT] * 4
    assert delivery.send_batch(queued, claimant="task-2").sent == []  # nothing left to claim
    assert len(sink.received) == 4


def test_two_workers_never_claim_the_same_email(queued):
    first = delivery.claim(queued[:3], "worker-a")
    second = delivery.claim(queued, "worker-b")
    assert {d.pk for d in first}.isdisjoint({d.pk for d in second})
    assert len(first) + len(second) == 4


def test_a_redelivered_task_takes_back_its_own_claims(queued):
    delivery.claim(queued, "task-1")  # the worker died after claiming
    assert len(delivery.claim(queued, "task-1")) == 4  # same task id, redelivered
    assert delivery.claim(queued, "task-2") == []


def test_a_refused_address_fails_for_good_and_the_rest_go(sink, queued):
    sink.refuse["bob@riverside.nhs.uk"] = (550, "5.1.1 No such mailbox")
    result = delivery.send_batch(queued, claimant="task-1")
    assert len(result.sent) == 3 and len(result.failed) == 1
    failed = EmailDelivery.objects.get(status=Status.FAILED)
    assert failed.to == "bob@riverside.nhs.uk" and "No such mailbox" in failed.last_error


def test_a_temporary_refusal_puts_the_rest_back_and_raises(sink, queued):
    sink.refuse["sam@riverside.nhs.uk"] = (451, "4.3.0 Try again later")
    with pytest.raises(delivery.TransientEmailError):
        delivery.send_batch(queued, claimant="task-1")
    rows = list(EmailDelivery.objects.filter(pk__in=queued).order_by("pk").values_list("to", "status", "last_error"))
    refused_at = [to for to, _, _ in rows].index("sam@riverside.nhs.uk")
    assert [status for _, status, _ in rows[:refused_at]] == [Status.SENT] * refused_at
    assert [status for _, status, _ in rows[refused_at:]] == [Status.QUEUED] * (4 - refused_at)
    assert "Try again later" in rows[refused_at][2]
    sink.refuse.clear()
    delivery.send_batch(queued, claimant="task-1-retry")
    assert statuses(queued) == [Status.SENT] * 4
    assert sorted(m["To"] for m in sink.received) == sorted(to for to, _, _ in rows)  # each exactly once


def test_a_dropped_connection_is_transient(sink, queued):
    sink.hang_up_after = 2
    with pytest.raises(delivery.TransientEmailError):
        delivery.send_batch(queued, claimant="task-1")
    assert statuses(queued).count(Status.SENT) == 1  # the second was accepted but never confirmed
    assert statuses(queued).count(Status.QUEUED) == 3


def test_an_unreachable_server_requeues_everything(settings, queued):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with pytest.raises(delivery.TransientEmailError):
        delivery.send_batch(queued, claimant="task-1")
    assert statuses(queued) == [Status.QUEUED] * 4
    assert "Could not connect" in EmailDelivery.objects.first().last_error


def test_transient_failures_stop_after_the_last_attempt(settings, queued):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    for attempt in range(delivery.MAX_ATTEMPTS):
        with pytest.raises(delivery.TransientEmailError):
            delivery.send_batch(queued, claimant=f"task-{attempt}")
    assert statuses(queued) == [Status.FAILED] * 4
    assert EmailDelivery.objects.first().attempts == delivery.MAX_ATTEMPTS


def test_the_send_task_retries_transient_failures_with_back_off(settings, queued):
    from celery.exceptions import Retry

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with pytest.raises(Retry) as caught:
        tasks.send_emails.apply(args=[queued], throw=True)
    assert caught.value.when == 60  # first retry after a minute, doubling after


def test_stalled_claims_are_recovered(queued, django_capture_on_commit_callbacks):
    delivery.claim(queued, "dead-task")
    EmailDelivery.objects.update(claimed_at=timezone.now() - timezone.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stalled() == 4
    assert statuses(queued) == [Status.SENT] * 4
    assert len(mail.outbox) == 4


def test_a_fresh_claim_is_left_alone(queued, django_capture_on_commit_callbacks):
    delivery.claim(queued, "live-task")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stalled() == 0
    assert statuses(queued) == [Status.SENDING] * 4


def test_marking_several_at_a_time_still_marks_every_sent_email(sink, queued, settings):
    settings.NOTIFICATIONS_EMAIL_MARK_EVERY = 3
    sink.refuse["sam@riverside.nhs.uk"] = (550, "5.1.1 No such mailbox")
    result = delivery.send_batch(queued, claimant="task-1")
    assert len(result.sent) == 3 and len(result.failed) == 1
    assert sorted(statuses(queued)) == sorted([Status.SENT] * 3 + [Status.FAILED])
    assert len(sink.received) == 3


def test_a_retry_waiting_for_its_back_off_is_left_to_its_own_task(settings, queued, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with pytest.raises(delivery.TransientEmailError):
        delivery.send_batch(queued, claimant="task-1")
    EmailDelivery.objects.update(created_at=timezone.now() - timezone.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stalled() == 0  # no extra attempts burnt during an outage
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {1}
    EmailDelivery.objects.update(claimed_at=timezone.now() - timezone.timedelta(minutes=70))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.requeue_stalled() == 4  # the retry task itself must have been lost
    assert callbacks
