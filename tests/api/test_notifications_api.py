"""Notifications over the API: my own only, filter unread, mark one or all read, sync what changed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Kind, Notification
from tests.api.conftest import assert_constant_queries

pytestmark = pytest.mark.django_db


def notify(user, key: str, **fields) -> Notification:
    return Notification.objects.create(
        recipient=user, kind=Kind.MILESTONE_APPROVED, dedup_key=key, title=f"Approved {key}", **fields
    )


def ids(client, **params) -> list[int]:
    response = client.get("/api/v1/notifications/", params)
    assert response.status_code == 200, response.json()
    return [n["id"] for n in response.json()["results"]]


def test_i_see_my_own_notifications_newest_first(trust, client_for, project):
    older = notify(trust.alice, "a", created_at=timezone.now() - dt.timedelta(hours=1), project=project)
    newer = notify(trust.alice, "b", body="Well done.", url="/projects/1/")
    notify(trust.bob, "c")
    body = client_for(trust.alice).get("/api/v1/notifications/").json()
    assert [n["id"] for n in body["results"]] == [newer.pk, older.pk]
    assert body["results"][1] == {
        "id": older.pk,
        "kind": "milestone_approved",
        "title": "Approved a",
        "body": "",
        "url": "",
        "project": project.pk,
        "created_at": body["results"][1]["created_at"],
        "read_at": None,
        "updated_at": body["results"][1]["updated_at"],
    }
    assert ids(client_for(trust.charlie)) == []


def test_someone_elses_notification_is_a_404(trust, client_for):
    bobs = notify(trust.bob, "b")
    alice = client_for(trust.alice)
    assert alice.get(f"/api/v1/notifications/{bobs.pk}/").status_code == 404
    assert alice.post(f"/api/v1/notifications/{bobs.pk}/read/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_filter_unread(trust, client_for):
    read = notify(trust.alice, "a", read_at=timezone.now())
    unread = notify(trust.alice, "b")
    alice = client_for(trust.alice)
    assert ids(alice, unread="true") == [unread.pk]
    assert ids(alice, unread="false") == [read.pk]


def test_marking_read_keeps_the_first_time(trust, client_for):
    note = notify(trust.alice, "a")
    alice = client_for(trust.alice)
    first = alice.post(f"/api/v1/notifications/{note.pk}/read/")
    assert first.status_code == 200
    assert first.json()["read_at"] is not None
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        again = alice.post(f"/api/v1/notifications/{note.pk}/read/")
    assert again.json()["read_at"] == first.json()["read_at"]


def test_read_all_marks_only_my_unread_ones(trust, client_for):
    notify(trust.alice, "a")
    notify(trust.alice, "b")
    already = notify(trust.alice, "c", read_at=timezone.now() - dt.timedelta(days=1))
    bobs = notify(trust.bob, "d")
    response = client_for(trust.alice).post("/api/v1/notifications/read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked": 2}
    assert not Notification.objects.for_user(trust.alice).unread().exists()
    already_read_at = already.read_at
    already.refresh_from_db()
    assert already.read_at == already_read_at
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_a_notification_read_on_another_device_comes_through_the_next_sync(trust, client_for):
    note, other = notify(trust.alice, "a"), notify(trust.alice, "b")
    phone, laptop = client_for(trust.alice, "phone"), client_for(trust.alice, "laptop")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        synced = phone.get("/api/v1/notifications/").json()["sync_time"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        laptop.post(f"/api/v1/notifications/{note.pk}/read/")
        assert ids(phone, updated_since=synced) == [note.pk]
    assert other.pk != note.pk


def test_detail_answers_if_none_match_with_304_until_read(trust, client_for):
    note = notify(trust.alice, "a")
    alice = client_for(trust.alice)
    url = f"/api/v1/notifications/{note.pk}/"
    etag = alice.get(url).headers["ETag"]
    assert alice.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    alice.post(f"{url}read/")
    assert alice.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_notifications_need_a_login(anonymous):
    assert anonymous.get("/api/v1/notifications/").status_code == 401
    assert anonymous.post("/api/v1/notifications/read-all/").status_code == 401


def test_notification_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for, project):
    for number in range(100):
        notify(trust.alice, f"n{number}", project=project)
    assert_constant_queries(client_for(trust.alice), "/api/v1/notifications/")
