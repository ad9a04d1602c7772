"""The learning library: completed projects of my organisation, summary fields only."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from qi.models import Project, Topic
from tests.api.conftest import assert_constant_queries
from tests.factories import DepartmentFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

SUMMARY_FIELDS = {
    "id",
    "title",
    "aim",
    "category",
    "department",
    "topics",
    "outcome_summary",
    "lessons_learned",
    "completed_at",
    "updated_at",
}


def completed(department, **fields) -> Project:
    defaults = {
        "status": Project.Status.COMPLETED,
        "completed_at": timezone.now(),
        "outcome_summary": "Door-to-ECG time fell from 22 to 8 minutes.",
        "lessons_learned": "Ask the triage nurses first.",
        "sustainability_notes": "Owned by the ED matron.",
        "handover_notes": "Private notes for the next lead.",
    }
    return ProjectFactory(department=department, **{**defaults, **fields})


def ids(client, **params) -> list[int]:
    response = client.get("/api/v1/library/", params)
    assert response.status_code == 200, response.json()
    return [p["id"] for p in response.json()["results"]]


@pytest.mark.parametrize(("person", "sees"), [("dora", True), ("ursula", True), ("alice", True), ("charlie", False)])
def test_completed_projects_of_my_organisation_only(trust, client_for, project, person, sees):
    done = completed(trust.cardiology)
    completed(DepartmentFactory(organisation=trust.charlie.organisation))  # another trust's
    client = client_for(getattr(trust, person))
    if sees:
        assert ids(client) == [done.pk]  # not the draft, not the other trust's
        assert client.get(f"/api/v1/library/{done.pk}/").status_code == 200
    else:
        assert done.pk not in ids(client)
        assert client.get(f"/api/v1/library/{done.pk}/").status_code == 404


def test_a_project_still_open_is_not_in_the_library(trust, client_for, active_project):
    assert client_for(trust.alice).get(f"/api/v1/library/{active_project.pk}/").status_code == 404


def test_library_shows_summary_fields_only(trust, client_for):
    done = completed(trust.cardiology, title="Faster ECGs", category=Project.Category.CLINICAL_AUDIT)
    MembershipFactory(project=done, user=trust.alice, role="lead")
    done.topics.add(Topic.objects.create(name="Chest pain", slug="chest-pain"))
    body = client_for(trust.dora).get(f"/api/v1/library/{done.pk}/").json()
    assert set(body) == SUMMARY_FIELDS  # no problem, team, supervisor or handover notes
    assert body["department"] == {"id": trust.cardiology.pk, "name": "Cardiology"}
    assert body["topics"] == ["chest-pain"]
    assert (body["title"], body["category"]) == ("Faster ECGs", "clinical_audit")
    assert body["outcome_summary"] == "Door-to-ECG time fell from 22 to 8 minutes."


def test_library_search_and_filters(trust, client_for):
    ecg = completed(trust.cardiology, title="Faster ECGs", category=Project.Category.QI)
    falls = completed(trust.surgery, title="Falls", aim="Fewer falls at night", category=Project.Category.RE_AUDIT)
    sepsis = completed(trust.surgery, title="Sepsis six", outcome_summary="Antibiotics within the hour doubled.")
    falls.topics.add(Topic.objects.create(name="Falls", slug="falls"))
    dora = client_for(trust.dora)
    assert ids(dora, search="faster") == [ecg.pk]  # the title
    assert ids(dora, search="night") == [falls.pk]  # the aim
    assert ids(dora, search="antibiotics") == [sepsis.pk]  # the outcome
    assert set(ids(dora, department=trust.surgery.pk)) == {falls.pk, sepsis.pk}
    assert ids(dora, category="re_audit") == [falls.pk]
    assert ids(dora, topic="falls") == [falls.pk]
    bad = dora.get("/api/v1/library/", {"category": "poetry"})
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["category"]


def test_library_updated_since_returns_only_what_changed(trust, client_for):
    old, changed = completed(trust.cardiology), completed(trust.surgery)
    dora = client_for(trust.dora)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        synced = dora.get("/api/v1/library/").json()["sync_time"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        changed.lessons_learned = "Night staff need their own briefing."
        changed.save()
        assert ids(dora, updated_since=synced) == [changed.pk]
    assert old.pk != changed.pk


def test_library_detail_answers_if_none_match_with_304(trust, client_for):
    done = completed(trust.cardiology)
    dora = client_for(trust.dora)
    etag = dora.get(f"/api/v1/library/{done.pk}/").headers["ETag"]
    assert dora.get(f"/api/v1/library/{done.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_library_is_read_only_and_needs_a_login(trust, client_for, anonymous):
    done = completed(trust.cardiology)
    assert client_for(trust.olga).patch(f"/api/v1/library/{done.pk}/", {"title": "X"}).status_code == 405
    assert anonymous.get("/api/v1/library/").status_code == 401


def test_library_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for):
    for number in range(100):
        done = completed(trust.cardiology if number % 2 else trust.surgery)
        done.topics.create(name=f"Topic {number}", slug=f"topic-{number}")
    assert_constant_queries(client_for(trust.dora), "/api/v1/library/")
