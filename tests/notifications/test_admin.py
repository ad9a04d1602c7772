"""The notifications admin: pages open, failed e-mails show why, and "Queue again" sends them once more."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications import outbox
from notifications.models import EmailDelivery, Kind, Notification, Preference
from notifications.outbox import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SMTP_ERROR = "SMTPRecipientsRefused({'alice@riverside.nhs.uk': (550, b'5.1.1 Mailbox unavailable: no such user here')})"


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:notifications_{model._meta.model_name}_{view}", args=args)


def post_one(user, key: str, *, status: str = EmailDelivery.Status.QUEUED, error: str = "") -> EmailDelivery:
    """A notification and its e-mail, made as the app makes them."""
    [delivery_id] = outbox.post(
        [Message(recipient_id=user.pk, kind=Kind.MEMBER_ADDED, key=key, title=f"You joined {key}")]
    )
    sent_at = timezone.now() if status == EmailDelivery.Status.SENT else None
    EmailDelivery.objects.filter(pk=delivery_id).update(status=status, last_error=error, attempts=5, sent_at=sent_at)
    return EmailDelivery.objects.get(pk=delivery_id)


@pytest.fixture
def failed(trust) -> EmailDelivery:
    return post_one(trust.alice, "project:1", status=EmailDelivery.Status.FAILED, error=SMTP_ERROR)


@pytest.mark.parametrize("model", [Notification, EmailDelivery, Preference])
def test_superuser_opens_every_changelist(admin_client, failed, model):
    Preference.objects.create(user=failed.notification.recipient, digest="monthly")
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_superuser_opens_the_change_pages(admin_client, failed):
    preference = Preference.objects.create(user=failed.notification.recipient)
    for model, pk in [(Notification, failed.notification_id), (EmailDelivery, failed.pk), (Preference, preference.pk)]:
        assert admin_client.get(admin_url(model, "change", pk)).status_code == 200
    assert admin_client.get(admin_url(Preference, "add")).status_code == 200


def test_notifications_and_emails_cannot_be_made_by_hand(admin_client, db):
    assert admin_client.get(admin_url(Notification, "add")).status_code == 403
    assert admin_client.get(admin_url(EmailDelivery, "add")).status_code == 403


def test_the_email_list_shows_the_start_of_a_failures_error(admin_client, failed):
    content = admin_client.get(admin_url(EmailDelivery, "changelist")).content.decode()
    assert "SMTPRecipientsRefused" in content
    assert "no such user here" not in content  # shortened; the change page has it all


def test_the_email_page_shows_the_whole_error_and_both_bodies_read_only(admin_client, failed):
    content = admin_client.get(admin_url(EmailDelivery, "change", failed.pk)).content.decode()
    assert "5.1.1 Mailbox unavailable: no such user here" in content
    assert "You joined project:1" in content
    assert 'name="text_body"' not in content
    assert 'name="last_error"' not in content


def test_the_email_list_filters_failed_ones(admin_client, trust, failed):
    post_one(trust.bob, "project:2")
    response = admin_client.get(admin_url(EmailDelivery, "changelist"), {"status": "failed"})
    assert [d.pk for d in response.context["cl"].result_list] == [failed.pk]


def test_the_notification_list_filters_unread_and_searches_keys_and_addresses(admin_client, trust, failed):
    read = post_one(trust.bob, "project:2").notification
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    url = admin_url(Notification, "changelist")
    assert [n.pk for n in admin_client.get(url, {"read": "no"}).context["cl"].result_list] == [failed.notification_id]
    assert [n.pk for n in admin_client.get(url, {"read": "yes"}).context["cl"].result_list] == [read.pk]
    assert admin_client.get(url, {"q": "project:2"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "alice@riverside"}).context["cl"].result_count == 1


@pytest.mark.parametrize("model", [Notification, EmailDelivery, Preference])
def test_changelists_run_the_same_queries_whatever_the_number_of_rows(admin_client, trust, model):
    url = admin_url(model, "changelist")
    post_one(trust.alice, "project:1")
    Preference.objects.create(user=trust.alice)
    admin_client.get(url)  # warm up: session, content types
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url).status_code == 200
    for n in range(2, 6):
        user = UserFactory(organisation=trust.organisation)
        post_one(user, f"project:{n}", status=EmailDelivery.Status.FAILED, error=SMTP_ERROR)
        Preference.objects.create(user=user)
    with CaptureQueriesContext(connection) as five:
        assert admin_client.get(url).context["cl"].result_count == 5
    assert len(five) == len(one), [q["sql"] for q in five.captured_queries]


def test_queue_again_sends_failed_emails_once_more_and_leaves_others_alone(
    admin_client, trust, failed, django_capture_on_commit_callbacks
):
    sent = post_one(trust.bob, "project:2", status=EmailDelivery.Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            admin_url(EmailDelivery, "changelist"),
            {"action": "queue_again", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert "Queued 1 e-mail(s) again. 1 that had not failed were left alone." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == EmailDelivery.Status.SENT  # the worker (eager here) sent it
    assert failed.attempts == 1
    assert [m.to for m in mail.outbox] == [["alice@riverside.nhs.uk"]]
    assert EmailDelivery.objects.get(pk=sent.pk).status == EmailDelivery.Status.SENT


def test_queue_again_puts_a_failed_email_back_in_the_queue_unclaimed(admin_client, failed):
    EmailDelivery.objects.filter(pk=failed.pk).update(claimed_by="dead-task")
    action = {"action": "queue_again", "_selected_action": [failed.pk]}
    admin_client.post(admin_url(EmailDelivery, "changelist"), action)
    failed.refresh_from_db()
    assert (failed.status, failed.claimed_by, failed.claimed_at) == (EmailDelivery.Status.QUEUED, "", None)
    assert failed.last_error == SMTP_ERROR  # kept until it is sent
