"""PDSA cycles over the API: numbered on create, recorded with PATCH, scoped, synced."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from qi import services
from qi.models import PDSACycle
from tests.api.conftest import assert_constant_queries
from tests.factories import PDSACycleFactory

pytestmark = pytest.mark.django_db

NHS_NUMBER = "943 476 5919"


@pytest.fixture
def cycle(active_project, trust) -> PDSACycle:
    return services.pdsa_cycle_create(actor=trust.alice, project=active_project, change_idea="ECG prompt at triage")


def cycle_ids(client, **params) -> list[int]:
    response = client.get("/api/v1/pdsa-cycles/", params)
    assert response.status_code == 200, response.json()
    return [c["id"] for c in response.json()["results"]]


def test_team_starts_numbered_cycles(active_project, trust, client_for):
    new = {"project": active_project.pk, "change_idea": "ECG machine in triage", "starts_on": "2027-01-04"}
    first = client_for(trust.alice).post("/api/v1/pdsa-cycles/", {**new, "prediction": "Median under 15 minutes."})
    second = client_for(trust.bob).post("/api/v1/pdsa-cycles/", new)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["number"], second.json()["number"]) == (1, 2)
    assert first.json()["prediction"] == "Median under 15 minutes."
    assert first.json()["project"] == active_project.pk
    assert first.json()["act"] == "" and first.json()["ends_on"] is None


def test_create_errors(active_project, trust, client_for):
    new = {"project": active_project.pk, "change_idea": "Triage prompt"}
    assert client_for(trust.sam).post("/api/v1/pdsa-cycles/", new).status_code == 403
    for person in ("dora", "charlie"):
        hidden = client_for(getattr(trust, person)).post("/api/v1/pdsa-cycles/", new)
        assert hidden.status_code == 400
        assert "does not exist" in hidden.json()["fields"]["project"][0]
    missing = client_for(trust.alice).post("/api/v1/pdsa-cycles/", {"project": active_project.pk})
    assert set(missing.json()["fields"]) == {"change_idea"}
    patient = client_for(trust.alice).post("/api/v1/pdsa-cycles/", {**new, "plan_who": f"Nurse; patient {NHS_NUMBER}"})
    assert patient.status_code == 400
    assert set(patient.json()["fields"]) == {"plan_who"}
    assert "NHS number" in patient.json()["fields"]["plan_who"][0]
    assert not PDSACycle.objects.exists()


def test_team_records_the_study_and_act(cycle, trust, client_for):
    alice = client_for(trust.alice)
    etag = alice.get(f"/api/v1/pdsa-cycles/{cycle.pk}/").headers["ETag"]
    response = alice.patch(
        f"/api/v1/pdsa-cycles/{cycle.pk}/",
        {"study": "Median fell to 12 minutes.", "act": "adapt", "ends_on": "2027-01-18"},
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["study"], response.json()["act"], response.json()["ends_on"]) == (
        "Median fell to 12 minutes.",
        "adapt",
        "2027-01-18",
    )
    assert alice.patch(f"/api/v1/pdsa-cycles/{cycle.pk}/", {"act": "adopt"}, HTTP_IF_MATCH=etag).status_code == 412
    assert alice.patch(f"/api/v1/pdsa-cycles/{cycle.pk}/", {"act": "maybe"}).status_code == 400


def test_edit_errors_map_to_status_codes(cycle, active_project, trust, client_for):
    path = f"/api/v1/pdsa-cycles/{cycle.pk}/"
    assert client_for(trust.sam).patch(path, {"study": "x"}).status_code == 403
    assert client_for(trust.dora).patch(path, {"study": "x"}).status_code == 404
    assert client_for(trust.charlie).get(path).status_code == 404
    services.project_abandon(actor=trust.alice, project=active_project, reason="Rotated out.")
    closed = client_for(trust.alice).patch(path, {"study": "x"})
    assert closed.status_code == 409
    assert closed.json()["detail"] == "This project is abandoned: you cannot edit its PDSA cycles."
    cycle.refresh_from_db()
    assert cycle.study == ""


def test_list_is_scoped_and_filtered_by_project(cycle, active_project, trust, client_for):
    elsewhere = PDSACycleFactory()
    assert cycle_ids(client_for(trust.quinn)) == [cycle.pk]
    assert cycle_ids(client_for(trust.alice), project=active_project.pk) == [cycle.pk]
    assert cycle_ids(client_for(trust.alice), project=elsewhere.project_id) == []
    assert cycle_ids(client_for(trust.dora)) == []
    assert cycle_ids(client_for(trust.charlie)) == []


def test_updated_since_and_etag(cycle, trust, client_for):
    alice = client_for(trust.alice)
    first = alice.get(f"/api/v1/pdsa-cycles/{cycle.pk}/")
    assert alice.get(f"/api/v1/pdsa-cycles/{cycle.pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        sync_time = alice.get("/api/v1/pdsa-cycles/").json()["sync_time"]
    assert cycle_ids(alice, updated_since=sync_time) == []
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        services.pdsa_cycle_update(actor=trust.alice, cycle=cycle, do_notes="Ran for two weeks.")
        assert cycle_ids(alice, updated_since=sync_time) == [cycle.pk]


def test_list_runs_the_same_queries_for_5_and_100_rows(active_project, trust, client_for):
    for number in range(100):
        PDSACycleFactory(project=active_project, number=number + 1)
    assert_constant_queries(client_for(trust.bob), "/api/v1/pdsa-cycles/")
