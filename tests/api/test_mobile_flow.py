"""The whole mobile flow over HTTP with device tokens, as the issue's "done when" describes it.

Transactions really commit here (transaction=True), so notifications are made by the same on-commit
Celery tasks as in production (run eagerly in-process).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def device(user, name: str) -> APIClient:
    client = APIClient()
    response = client.post("/api/v1/auth/login/", {"email": user.email, "password": PASSWORD, "device_name": name})
    assert response.status_code == 200, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response.content else {}


def test_doctor_and_supervisor_work_a_milestone_through_on_their_phones(trust):
    start = timezone.now()
    phone = device(trust.alice, "Alice's phone")

    # The doctor starts a project, activates it, adds a measure and 30 data points in one request.
    project = ok(
        phone.post(
            "/api/v1/projects/",
            {
                "department": trust.cardiology.pk,
                "title": "Faster ECGs for chest pain",
                "problem": "Door-to-ECG time for chest pain averages 22 minutes.",
                "aim": "90% of chest pain patients have an ECG within 10 minutes of arrival by 31 March.",
            },
        ),
        201,
    )
    assert project["supervisor"]["id"] == trust.sam.pk
    ok(phone.post(f"/api/v1/projects/{project['id']}/activate/"))
    measure = ok(
        phone.post(
            "/api/v1/measures/",
            {
                "project": project["id"],
                "name": "ECG within 10 minutes",
                "operational_definition": "Chest pain attendances with an ECG within 10 minutes / all, weekly.",
                "better": "up",
                "unit": "%",
            },
        ),
        201,
    )
    points = [
        {"date": str(dt.date(2026, 1, 5) + dt.timedelta(weeks=week)), "numerator": 10 + week % 7, "denominator": 20}
        for week in range(30)
    ]
    created = ok(phone.post(f"/api/v1/measures/{measure['id']}/data-points/", {"points": points}), 201)
    assert len(created["results"] if isinstance(created, dict) and "results" in created else created) == 30

    # ...and submits the first milestone with its evidence.
    milestones = ok(phone.get("/api/v1/milestones/", {"project": project["id"], "ordering": "due_on"}))["results"]
    first = milestones[0]
    submitted = ok(phone.post(f"/api/v1/milestones/{first['id']}/submit/", {"evidence": "Agreed at the meeting."}))
    assert submitted["status"] == "submitted"
    with time_machine.travel(start + dt.timedelta(minutes=5)):  # the phone syncs a few minutes later
        synced_at = ok(phone.get("/api/v1/milestones/", {"project": project["id"]}))["sync_time"]
        notes_synced_at = ok(phone.get("/api/v1/notifications/"))["sync_time"]

    # The supervisor, on another device, sees it waiting and approves it.
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        supervisor = device(trust.sam, "Sam's tablet")
        dashboard = ok(supervisor.get("/api/v1/me/dashboard/"))
        waiting = dashboard["reviews_waiting"]
        waiting_ids = [m["id"] for m in (waiting["results"] if isinstance(waiting, dict) else waiting)]
        assert first["id"] in waiting_ids
        queue = ok(supervisor.get("/api/v1/milestones/", {"awaiting_my_review": "true"}))["results"]
        assert [m["id"] for m in queue] == [first["id"]]
        approved = ok(supervisor.post(f"/api/v1/milestones/{first['id']}/approve/", {"comment": "Well done."}))
        assert approved["status"] == "approved"

    # The doctor syncs: the approval and its notification come through.
    with time_machine.travel(start + dt.timedelta(minutes=20)):
        changed = ok(phone.get("/api/v1/milestones/", {"updated_since": synced_at}))["results"]
        assert [(m["id"], m["status"]) for m in changed] == [(first["id"], "approved")]
        notes = ok(phone.get("/api/v1/notifications/", {"updated_since": notes_synced_at}))["results"]
        assert any(n["kind"] == "milestone_approved" for n in notes), notes
        reviews = ok(phone.get("/api/v1/reviews/", {"milestone": first["id"]}))["results"]
        assert [(r["decision"], r["comment"]) for r in reviews] == [("approved", "Well done.")]

    # Someone from another trust gets 404 for every piece of it.
    outsider = device(trust.charlie, "Charlie's phone")
    review_id = reviews[0]["id"]
    note_id = next(n["id"] for n in notes if n["kind"] == "milestone_approved")
    point_id = ok(phone.get("/api/v1/data-points/", {"measure": measure["id"]}))["results"][0]["id"]
    for url in (
        f"/api/v1/projects/{project['id']}/",
        f"/api/v1/projects/{project['id']}/members/",
        f"/api/v1/milestones/{first['id']}/",
        f"/api/v1/measures/{measure['id']}/",
        f"/api/v1/data-points/{point_id}/",
        f"/api/v1/reviews/{review_id}/",
        f"/api/v1/notifications/{note_id}/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/api/v1/milestones/{first['id']}/approve/", {"comment": "x"}).status_code == 404
    assert outsider.post(f"/api/v1/measures/{measure['id']}/data-points/", {"points": points[:1]}).status_code == 404
    for url in ("/api/v1/projects/", "/api/v1/milestones/", "/api/v1/measures/", "/api/v1/reviews/"):
        assert ok(outsider.get(url))["results"] == [], url
    assert ok(outsider.get("/api/v1/audit-events/", {"project": project["id"]}))["results"] == []
