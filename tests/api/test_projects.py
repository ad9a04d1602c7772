"""Projects over the API: create, read with ETags, edit with If-Match, workflow actions, team, filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from api.resources.projects import ProjectSerializer, projects_for
from qi.models import Milestone, Project, ProjectMembership
from tests.api.conftest import assert_constant_queries
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

NEW_PROJECT = {
    "title": "Sepsis six within the hour",
    "problem": "Only 40% of patients with red-flag sepsis get antibiotics within an hour.",
    "aim": "80% within one hour by June.",
}


def test_lead_creates_a_draft_project_with_its_milestone_plan(trust, client_for):
    response = client_for(trust.alice).post("/api/v1/projects/", {**NEW_PROJECT, "department": trust.cardiology.pk})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["lead"] == {"id": trust.alice.pk, "full_name": "Alice"}
    assert body["supervisor"] == {"id": trust.sam.pk, "full_name": "Sam"}  # from alice's placement
    assert body["my_role"] == "lead"
    assert response.headers["ETag"].startswith('W/"')
    assert Milestone.objects.filter(project_id=body["id"]).exists()


def test_create_refuses_an_nhs_number_naming_the_field_and_saves_nothing(trust, client_for):
    data = {**NEW_PROJECT, "department": trust.cardiology.pk, "problem": "Patient 943 476 5919 waited 3 hours."}
    response = client_for(trust.alice).post("/api/v1/projects/", data)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"problem"}
    assert "NHS number" in body["fields"]["problem"][0]
    assert not Project.objects.exists()


def test_create_with_missing_fields_lists_each_field(trust, client_for):
    response = client_for(trust.alice).post("/api/v1/projects/", {"department": trust.cardiology.pk})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"title", "problem", "aim"}


def test_department_of_another_trust_reads_as_missing(trust, client_for):
    response = client_for(trust.charlie).post("/api/v1/projects/", {**NEW_PROJECT, "department": trust.cardiology.pk})
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["department"][0]


def test_detail_answers_if_none_match_with_304(project, trust, client_for):
    client = client_for(trust.alice)
    first = client.get(f"/api/v1/projects/{project.pk}/")
    again = client.get(f"/api/v1/projects/{project.pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    client.patch(f"/api/v1/projects/{project.pk}/", {"title": "Faster ECGs"})
    changed = client.get(f"/api/v1/projects/{project.pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert changed.status_code == 200
    assert changed.json()["title"] == "Faster ECGs"


def test_edit_with_a_stale_if_match_is_refused_with_412(project, trust, client_for):
    client = client_for(trust.alice)
    etag = client.get(f"/api/v1/projects/{project.pk}/").headers["ETag"]
    assert client.patch(f"/api/v1/projects/{project.pk}/", {"title": "One"}, HTTP_IF_MATCH=etag).status_code == 200
    stale = client.patch(f"/api/v1/projects/{project.pk}/", {"title": "Two"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    project.refresh_from_db()
    assert project.title == "One"


def test_workflow_actions_map_domain_errors_to_status_codes(project, trust, client_for):
    alice, sam = client_for(trust.alice), client_for(trust.sam)
    assert sam.post(f"/api/v1/projects/{project.pk}/activate/").status_code == 403  # sees it, may not act
    assert client_for(trust.dora).post(f"/api/v1/projects/{project.pk}/activate/").status_code == 404
    assert alice.post(f"/api/v1/projects/{project.pk}/activate/").json()["status"] == "active"
    again = alice.post(f"/api/v1/projects/{project.pk}/activate/")
    assert again.status_code == 409
    assert again.json() == {
        "status": 409,
        "code": "conflict",
        "detail": "Only a draft project can be activated; this one is active.",
        "fields": {},
    }


def test_abandon_needs_a_reason(active_project, trust, client_for):
    response = client_for(trust.alice).post(f"/api/v1/projects/{active_project.pk}/abandon/", {"reason": " "})
    assert response.status_code == 400
    assert "abandon_reason" in response.json()["fields"]
    ok = client_for(trust.quinn).post(f"/api/v1/projects/{active_project.pk}/abandon/", {"reason": "Rotated out."})
    assert ok.json()["status"] == "abandoned"


def test_hand_over_and_team_changes(active_project, trust, client_for):
    alice = client_for(trust.alice)
    added = alice.post(f"/api/v1/projects/{active_project.pk}/members/", {"user": trust.dora.pk})
    assert added.status_code == 201
    handed = alice.post(f"/api/v1/projects/{active_project.pk}/hand-over/", {"successor": trust.bob.pk})
    assert handed.json()["lead"]["id"] == trust.bob.pk
    assert handed.json()["my_role"] == "former_member"
    team = client_for(trust.bob).get(f"/api/v1/projects/{active_project.pk}/members/").json()
    assert [(m["user"]["id"], m["role"], m["left_at"] is None) for m in team] == [
        (trust.alice.pk, "lead", False),
        (trust.bob.pk, "member", False),
        (trust.dora.pk, "member", True),
        (trust.bob.pk, "lead", True),
    ]
    removed = client_for(trust.dora).delete(f"/api/v1/projects/{active_project.pk}/members/{trust.dora.pk}/")
    assert removed.status_code == 204
    assert not ProjectMembership.objects.current().filter(project=active_project, user=trust.dora).exists()


def test_filters_mine_supervising_status_and_search(project, trust, client_for):
    other = ProjectFactory(department=trust.surgery, supervisor=trust.alice, title="Falls in surgery")
    MembershipFactory(project=other, user=trust.dora, role="lead")
    alice = client_for(trust.alice)
    ids = lambda **params: [p["id"] for p in alice.get("/api/v1/projects/", params).json()["results"]]  # noqa: E731
    assert set(ids()) == {project.pk, other.pk}
    assert ids(mine="true") == [project.pk]
    assert ids(supervising="true") == [other.pk]
    assert ids(search="ECG") == [project.pk]
    assert ids(lead=trust.dora.pk) == [other.pk]
    assert ids(status="active") == []
    bad = alice.get("/api/v1/projects/", {"status": "finished"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_project_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for):
    for number in range(100):
        project = ProjectFactory(department=trust.cardiology, supervisor=trust.sam, title=f"Project {number}")
        MembershipFactory(project=project, user=trust.alice, role="lead")
        project.topics.create(name=f"Topic {number}", slug=f"topic-{number}")
    count = assert_constant_queries(client_for(trust.alice), "/api/v1/projects/")
    # The same for whoever asks: the scope is built from the user's roles, read in one query for everyone.
    for person in (trust.sam, trust.quinn, trust.olga):
        assert assert_constant_queries(client_for(person), "/api/v1/projects/") == count


# --- the list serializer, written out ----------------------------------------------------------------


def test_project_serializer_gives_the_declared_fields_output_byte_for_byte(trust, active_project, client_for):
    """ProjectSerializer.to_representation is written out for speed: it must say what DRF's fields would."""
    active_project.topics.create(name="Cardiology", slug="cardiology")
    active_project.topics.create(name="ECG", slug="ecg")
    ProjectFactory(department=trust.surgery)  # a draft: no supervisor, no lead, no topics
    summer = dt.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)  # London is an hour ahead
    ProjectFactory(
        department=trust.cardiology,
        supervisor=trust.sam,
        status="completed",
        completed_at=summer,
        outcome_summary="Door-to-ECG 8 minutes",
        lessons_learned="Ask the nurses",
        sustainability_notes="In the triage checklist",
        seeking_team_members=True,
    )
    gone = ProjectFactory(
        department=trust.cardiology,
        status="abandoned",
        abandoned_at=dt.datetime(2026, 1, 5, 17, 0, tzinfo=dt.UTC),  # London is on UTC: "Z"
        abandon_reason="Moved on",
        handover_notes="Data in the shared drive",
    )
    joined = timezone.now() - dt.timedelta(days=30)
    MembershipFactory(project=gone, user=trust.alice, role="lead", joined_at=joined, left_at=joined)
    render = JSONRenderer().render
    for user in (trust.alice, trust.olga):
        # With the topic list of projects_for(), and without (any other queryset of projects).
        for queryset in (projects_for(user), projects_for(user).prefetch_related(None)):
            projects = list(queryset)
            assert len(projects) == (2 if user == trust.alice else 4)
            for project in projects:
                serializer = ProjectSerializer(project)
                written = serializer.to_representation(project)
                assert list(written) == ProjectSerializer.Meta.fields
                assert render(written) == render(serializers.ModelSerializer.to_representation(serializer, project))
    rows = client_for(trust.olga).get("/api/v1/projects/").json()["results"]
    assert [list(row) for row in rows] == [ProjectSerializer.Meta.fields] * 4
