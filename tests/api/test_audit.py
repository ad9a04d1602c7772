"""The audit trail of a project, read only, for the people who see the project."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from qi import services
from qi.models import AuditEvent
from tests.api.conftest import assert_constant_queries
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def verbs(client, **params) -> list[str]:
    response = client.get("/api/v1/audit-events/", params)
    assert response.status_code == 200, response.json()
    return [e["verb"] for e in response.json()["results"]]


@pytest.mark.parametrize(
    ("person", "sees"),
    [
        ("alice", True),
        ("bob", True),
        ("sam", True),
        ("quinn", True),
        ("olga", True),
        ("ursula", False),
        ("dora", False),
        ("charlie", False),
    ],
)
def test_the_trail_is_seen_by_those_who_see_the_project(trust, client_for, project, person, sees):
    client = client_for(getattr(trust, person))
    event = AuditEvent.objects.filter(project=project).first()
    if sees:
        assert verbs(client, project=project.pk) == ["project.member_added", "project.created"]  # newest first
        assert client.get(f"/api/v1/audit-events/{event.pk}/").status_code == 200
    else:
        assert verbs(client, project=project.pk) == []
        assert verbs(client) == []
        assert client.get(f"/api/v1/audit-events/{event.pk}/").status_code == 404


def test_an_event_says_who_did_what_before_and_after(trust, client_for, project):
    services.project_update(actor=trust.alice, project=project, title="Faster ECGs")
    body = client_for(trust.sam).get("/api/v1/audit-events/", {"project": project.pk}).json()["results"][0]
    assert body == {
        "id": body["id"],
        "actor": {"id": trust.alice.pk, "full_name": "Alice"},
        "verb": "project.updated",
        "object_type": "qi.project",
        "object_id": str(project.pk),
        "object_repr": "Faster ECGs",
        "project": project.pk,
        "before": {"title": "Faster ECGs for chest pain"},
        "after": {"title": "Faster ECGs"},
        "created_at": body["created_at"],
    }


def test_a_change_by_the_system_has_no_actor(trust, client_for, project):
    AuditEvent.objects.create(
        actor=None, verb="milestone.reminded", object_type="qi.project", object_id=str(project.pk), project=project
    )
    assert client_for(trust.alice).get("/api/v1/audit-events/").json()["results"][0]["actor"] is None


def test_the_filter_keeps_one_project_and_events_without_a_project_never_show(trust, client_for, project):
    other = ProjectFactory(department=trust.cardiology)
    MembershipFactory(project=other, user=trust.alice, role="lead")
    AuditEvent.objects.create(actor=trust.alice, verb="project.noted", object_type="qi.project", project=other)
    services.profile_update(actor=trust.olga, grade="ST1")  # audited without a project
    olga = client_for(trust.olga)
    assert "user.profile_updated" not in verbs(olga)
    assert verbs(client_for(trust.alice), project=other.pk) == ["project.noted"]
    assert set(verbs(olga)) == {"project.noted", "project.member_added", "project.created"}


def test_updated_since_lists_events_recorded_since(trust, client_for, project):
    alice = client_for(trust.alice)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        synced = alice.get("/api/v1/audit-events/").json()["sync_time"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        services.project_update(actor=trust.alice, project=project, title="Faster ECGs")
        assert verbs(alice, updated_since=synced) == ["project.updated"]


def test_event_detail_answers_if_none_match_with_304(trust, client_for, project):
    alice = client_for(trust.alice)
    url = f"/api/v1/audit-events/{AuditEvent.objects.filter(project=project).first().pk}/"
    etag = alice.get(url).headers["ETag"]
    assert alice.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_trail_is_read_only_and_needs_a_login(trust, client_for, anonymous, project):
    url = f"/api/v1/audit-events/{AuditEvent.objects.filter(project=project).first().pk}/"
    assert client_for(trust.alice).delete(url).status_code == 405
    assert client_for(trust.alice).post("/api/v1/audit-events/", {"verb": "x"}).status_code == 405
    assert anonymous.get("/api/v1/audit-events/").status_code == 401


def test_audit_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for, project):
    for number in range(100):
        AuditEvent.objects.create(
            actor=UserFactory(organisation=trust.organisation),
            verb="project.updated",
            object_type="qi.project",
            object_id=str(project.pk),
            project=project,
            after={"title": f"Title {number}"},
        )
    assert_constant_queries(client_for(trust.alice), "/api/v1/audit-events/", project=project.pk)
