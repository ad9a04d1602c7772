"""The notifications pages: the inbox, marking read, preferences, and unsubscribing without signing in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications import outbox
from notifications.models import Category, DigestFrequency, EmailDelivery, Kind, Notification, Preference
from notifications.outbox import Message
from qi.models import User

INBOX = "/notifications/"
PREFERENCES = "/notifications/preferences/"


def notify(user: User, n: int, *, read: bool = False, minutes_ago: int | None = None) -> Notification:
    return Notification.objects.create(
        recipient=user,
        kind=Kind.MEMBER_ADDED,
        dedup_key=f"member_added:{user.pk}:test:{n}",
        title=f"Notification {n} for {user.full_name}",
        body=f"Body {n}",
        url="/projects/1/",
        created_at=timezone.now() - dt.timedelta(minutes=n if minutes_ago is None else minutes_ago),
        read_at=timezone.now() if read else None,
    )


def unsubscribe_url(user: User, category: str) -> str:
    return reverse("notifications:unsubscribe", args=[outbox.unsubscribe_token(user.pk, category)])


# --- The inbox -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [INBOX, PREFERENCES])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_inbox_shows_only_my_notifications_newest_first_with_unread_marked(client, trust):
    notify(trust.alice, 1, read=True)  # 1 minute ago
    notify(trust.alice, 2)  # 2 minutes ago
    notify(trust.bob, 3)
    client.force_login(trust.alice)
    response = client.get(INBOX)
    assert response.status_code == 200
    shown = list(response.context["page"])
    assert [n.title for n in shown] == ["Notification 1 for Alice", "Notification 2 for Alice"]
    content = response.content.decode()
    assert "Notification 3 for Bob" not in content
    assert content.count('class="unread"') == 1
    assert "Notifications (1 unread)" in content


def test_an_empty_inbox_says_so(client, trust):
    client.force_login(trust.alice)
    assert "No notifications yet" in client.get(INBOX).content.decode()


@pytest.mark.parametrize("count", [1, 30])
def test_the_inbox_runs_the_same_queries_whatever_the_number_of_notifications(
    client, trust, django_assert_num_queries, count
):
    for n in range(count):
        notify(trust.alice, n)
    client.force_login(trust.alice)
    # session, user, page count, page rows, unread count (header and page share it)
    with django_assert_num_queries(5):
        response = client.get(INBOX)
    assert len(response.context["page"]) == count


def test_the_inbox_shows_50_a_page(client, trust):
    for n in range(51):
        notify(trust.alice, n)
    client.force_login(trust.alice)
    first = client.get(INBOX)
    second = client.get(INBOX, {"page": 2})
    assert len(first.context["page"]) == 50
    assert [n.title for n in second.context["page"]] == ["Notification 50 for Alice"]
    assert "Page 1 of 2" in first.content.decode()


def test_marking_one_read_marks_it_and_returns_to_the_inbox(client, trust):
    mine = notify(trust.alice, 1)
    other = notify(trust.alice, 2)
    client.force_login(trust.alice)
    response = client.post(reverse("notifications:read", args=[mine.pk]))
    assert response.status_code == 302
    assert response["Location"] == INBOX
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at is not None
    assert other.read_at is None


def test_marking_read_again_keeps_the_first_read_time(client, trust):
    mine = notify(trust.alice, 1, read=True)
    first_read = mine.read_at
    client.force_login(trust.alice)
    response = client.post(reverse("notifications:read", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at == first_read


def test_marking_read_goes_back_to_a_safe_next_page(client, trust):
    mine = notify(trust.alice, 1)
    client.force_login(trust.alice)
    response = client.post(reverse("notifications:read", args=[mine.pk]), {"next": "/notifications/?page=2"})
    assert response["Location"] == "/notifications/?page=2"


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_marking_read_ignores_a_next_page_on_another_site(client, trust, unsafe):
    mine = notify(trust.alice, 1)
    client.force_login(trust.alice)
    response = client.post(reverse("notifications:read", args=[mine.pk]), {"next": unsafe})
    assert response["Location"] == INBOX


def test_someone_elses_notification_is_not_found_and_stays_unread(client, trust):
    bobs = notify(trust.bob, 1)
    client.force_login(trust.alice)
    response = client.post(reverse("notifications:read", args=[bobs.pk]))
    assert response.status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_a_missing_notification_is_not_found(client, trust):
    client.force_login(trust.alice)
    assert client.post(reverse("notifications:read", args=[999999])).status_code == 404


def test_marking_read_needs_a_post(client, trust):
    mine = notify(trust.alice, 1)
    client.force_login(trust.alice)
    assert client.get(reverse("notifications:read", args=[mine.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405
    mine.refresh_from_db()
    assert mine.read_at is None


def test_anonymous_visitors_cannot_mark_anything_read(client, trust):
    mine = notify(trust.alice, 1)
    response = client.post(reverse("notifications:read", args=[mine.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    mine.refresh_from_db()
    assert mine.read_at is None


def test_marking_all_read_marks_only_mine(client, trust):
    already = notify(trust.alice, 1, read=True)
    first_read = already.read_at
    for n in range(2, 5):
        notify(trust.alice, n)
    bobs = notify(trust.bob, 9)
    client.force_login(trust.alice)
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert response["Location"] == INBOX
    assert not Notification.objects.for_user(trust.alice).unread().exists()
    already.refresh_from_db()
    bobs.refresh_from_db()
    assert already.read_at == first_read
    assert bobs.read_at is None


# --- The unread count in the header ---------------------------------------------------------------


def test_every_page_header_links_to_the_inbox_with_the_unread_count(client, trust):
    notify(trust.alice, 1)
    notify(trust.alice, 2)
    notify(trust.alice, 3, read=True)
    notify(trust.bob, 4)
    client.force_login(trust.alice)
    content = client.get("/").content.decode()
    assert f'<a href="{INBOX}">Notifications (2 unread)</a>' in content


def test_anonymous_pages_count_nothing(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/")
    assert "unread" not in response.content.decode()


# --- Unsubscribing ----------------------------------------------------------------------------------


def test_the_unsubscribe_page_names_the_person_and_the_category_and_changes_nothing(client, trust):
    response = client.get(unsubscribe_url(trust.alice, Category.REMINDERS))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alice" in content
    assert str(Category.REMINDERS.label) in content
    assert '<form method="post">' in content
    assert not Preference.objects.filter(user=trust.alice).exists()


OFF = {
    Category.ACTIVITY: {"email_activity": False, "email_reminders": True, "digest": DigestFrequency.WEEKLY},
    Category.REMINDERS: {"email_activity": True, "email_reminders": False, "digest": DigestFrequency.WEEKLY},
    Category.DIGEST: {"email_activity": True, "email_reminders": True, "digest": DigestFrequency.OFF},
}


@pytest.mark.parametrize("category", list(Category))
def test_a_one_click_post_without_a_csrf_token_stops_only_that_category(trust, category):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        unsubscribe_url(trust.alice, category),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You will no longer get" in response.content.decode()
    preference = Preference.objects.get(user=trust.alice)
    chosen = {name: getattr(preference, name) for name in ("email_activity", "email_reminders", "digest")}
    assert chosen == OFF[category]
    assert not Preference.objects.exclude(user=trust.alice).exists()


def test_unsubscribing_keeps_the_other_choices_already_saved(client, trust):
    Preference.objects.create(
        user=trust.alice, email_activity=False, first_reminder_days=3, second_reminder_days=None, digest="monthly"
    )
    client.post(unsubscribe_url(trust.alice, Category.REMINDERS))
    preference = Preference.objects.get(user=trust.alice)
    assert preference.email_reminders is False
    assert (preference.email_activity, preference.first_reminder_days, preference.second_reminder_days) == (
        False,
        3,
        None,
    )
    assert preference.digest == DigestFrequency.MONTHLY


def test_unsubscribing_twice_changes_nothing_more(client, trust):
    url = unsubscribe_url(trust.alice, Category.DIGEST)
    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200
    assert Preference.objects.filter(user=trust.alice).count() == 1
    assert Preference.objects.get(user=trust.alice).digest == DigestFrequency.OFF


def test_unsubscribing_needs_no_sign_in_even_when_someone_else_is_signed_in(client, trust):
    client.force_login(trust.bob)
    client.post(unsubscribe_url(trust.alice, Category.ACTIVITY))
    assert Preference.objects.get(user=trust.alice).email_activity is False
    assert not Preference.objects.filter(user=trust.bob).exists()


def test_the_link_in_a_real_email_unsubscribes(trust):
    [delivery_id] = outbox.post(
        [Message(recipient_id=trust.alice.pk, kind=Kind.MILESTONE_DUE, key="milestone:1:due", title="Due soon")]
    )
    link = EmailDelivery.objects.get(pk=delivery_id).unsubscribe_url
    path = link.removeprefix("http://127.0.0.1:8000")
    one_click = Client(enforce_csrf_checks=True)
    response = one_click.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Preference.objects.get(user=trust.alice).email_reminders is False


def broken_tokens(user: User) -> dict[str, str]:
    good = outbox.unsubscribe_token(user.pk, Category.REMINDERS)
    return {
        "tampered": good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb"),
        "other salt": signing.dumps({"u": user.pk, "c": "reminders"}, salt="something.else", compress=True),
        "unknown category": signing.dumps({"u": user.pk, "c": "marketing"}, salt=outbox.UNSUBSCRIBE_SALT),
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize("kind", ["tampered", "other salt", "unknown category", "garbage"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_damaged_link_says_it_is_broken_and_changes_nothing(client, trust, kind, method):
    token = broken_tokens(trust.alice)[kind]
    response = getattr(client, method)(reverse("notifications:unsubscribe", args=[token]))
    assert response.status_code == 400
    assert "This link is broken" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_link_of_a_deleted_user_is_not_found(client, trust):
    url = unsubscribe_url(trust.dora, Category.DIGEST)
    User.objects.filter(pk=trust.dora.pk).delete()
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert not Preference.objects.exists()


# --- Preferences ------------------------------------------------------------------------------------


def test_the_preferences_page_shows_the_defaults_without_saving_them(client, trust):
    client.force_login(trust.alice)
    response = client.get(PREFERENCES)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["email_activity"].value() is True
    assert form["first_reminder_days"].value() == 7
    assert form["digest"].value() == DigestFrequency.WEEKLY
    assert "No reminder" in response.content.decode()
    assert not Preference.objects.exists()


CHOICES = {
    "email_reminders": "on",
    "first_reminder_days": "3",
    "second_reminder_days": "",
    "digest": "monthly",
}  # email_activity left unticked


def test_saving_preferences_creates_the_row_and_says_so(client, trust):
    client.force_login(trust.alice)
    response = client.post(PREFERENCES, CHOICES, follow=True)
    assert response.redirect_chain == [(PREFERENCES, 302)]
    assert "Your notification preferences were saved." in response.content.decode()
    preference = Preference.objects.get(user=trust.alice)
    assert (preference.email_activity, preference.email_reminders) == (False, True)
    assert (preference.first_reminder_days, preference.second_reminder_days) == (3, None)
    assert preference.digest == DigestFrequency.MONTHLY


def test_saving_preferences_again_changes_the_same_row(client, trust):
    Preference.objects.create(user=trust.alice, digest="off")
    client.force_login(trust.alice)
    client.post(PREFERENCES, {**CHOICES, "digest": "weekly"})
    assert Preference.objects.get(user=trust.alice).digest == DigestFrequency.WEEKLY
    assert Preference.objects.count() == 1


def test_a_reminder_day_that_is_not_offered_is_refused(client, trust):
    Preference.objects.create(user=trust.alice, first_reminder_days=7)
    client.force_login(trust.alice)
    response = client.post(PREFERENCES, {**CHOICES, "first_reminder_days": "4"})
    assert response.status_code == 200
    assert response.context["form"].errors["first_reminder_days"]
    assert Preference.objects.get(user=trust.alice).first_reminder_days == 7


def test_saving_preferences_changes_nobody_elses(client, trust):
    Preference.objects.create(user=trust.bob, digest="monthly")
    client.force_login(trust.alice)
    client.post(PREFERENCES, {**CHOICES, "digest": "off"})
    assert Preference.objects.get(user=trust.bob).digest == DigestFrequency.MONTHLY
