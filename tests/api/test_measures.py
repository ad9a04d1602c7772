"""Measures over the API: define, edit, scope, sync, and many data points in one all-or-none request."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from qi import services
from qi.models import AuditEvent, DataPoint, Measure
from tests.api.conftest import assert_constant_queries
from tests.factories import MeasureFactory, PDSACycleFactory

pytestmark = pytest.mark.django_db

NHS_NUMBER = "943 476 5919"
NEW_MEASURE = {
    "name": "ECG within 10 minutes",
    "operational_definition": "Chest pain attendances with an ECG within 10 minutes / all, weekly.",
    "better": "up",
    "unit": "%",
}


@pytest.fixture
def measure(active_project, trust) -> Measure:
    return services.measure_create(actor=trust.alice, project=active_project, **NEW_MEASURE)


def weekly(count: int, start: dt.date = dt.date(2026, 1, 5)) -> list[dict]:
    return [
        {"date": str(start + dt.timedelta(weeks=week)), "numerator": 10 + week % 7, "denominator": 20}
        for week in range(count)
    ]


def bulk(client, measure: Measure, points: list[dict]):
    return client.post(f"/api/v1/measures/{measure.pk}/data-points/", {"points": points})


# --- measures --------------------------------------------------------------------------------


def test_team_defines_a_measure(active_project, trust, client_for):
    response = client_for(trust.bob).post(
        "/api/v1/measures/", {**NEW_MEASURE, "project": active_project.pk, "kind": "process", "target": "90"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["project"], body["name"], body["kind"], body["better"], body["target"]) == (
        active_project.pk,
        "ECG within 10 minutes",
        "process",
        "up",
        "90",
    )


def test_create_errors(active_project, trust, client_for):
    new = {**NEW_MEASURE, "project": active_project.pk}
    assert client_for(trust.sam).post("/api/v1/measures/", new).status_code == 403
    for person in ("dora", "charlie"):
        hidden = client_for(getattr(trust, person)).post("/api/v1/measures/", new)
        assert hidden.status_code == 400
        assert "does not exist" in hidden.json()["fields"]["project"][0]
    patient = client_for(trust.alice).post(
        "/api/v1/measures/", {**new, "operational_definition": f"Time for {NHS_NUMBER} and others"}
    )
    assert patient.status_code == 400
    assert set(patient.json()["fields"]) == {"operational_definition"}
    missing = client_for(trust.alice).post("/api/v1/measures/", {"project": active_project.pk})
    assert set(missing.json()["fields"]) == {"name", "operational_definition", "better"}
    assert not Measure.objects.exists()


def test_team_edits_a_measure_with_if_match(measure, trust, client_for):
    alice = client_for(trust.alice)
    etag = alice.get(f"/api/v1/measures/{measure.pk}/").headers["ETag"]
    edited = alice.patch(
        f"/api/v1/measures/{measure.pk}/", {"target": "95.5", "unit": "% of arrivals"}, HTTP_IF_MATCH=etag
    )
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["target"], edited.json()["unit"]) == ("95.5", "% of arrivals")
    assert AuditEvent.objects.get(verb="measure.updated").after == {"target": "95.500", "unit": "% of arrivals"}
    stale = alice.patch(f"/api/v1/measures/{measure.pk}/", {"unit": "minutes"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412


def test_edit_errors_map_to_status_codes(measure, active_project, trust, client_for):
    path = f"/api/v1/measures/{measure.pk}/"
    assert client_for(trust.sam).patch(path, {"unit": "x"}).status_code == 403
    assert client_for(trust.dora).patch(path, {"unit": "x"}).status_code == 404
    assert client_for(trust.charlie).get(path).status_code == 404
    patient = client_for(trust.alice).patch(path, {"name": f"Waits of {NHS_NUMBER}"})
    assert patient.status_code == 400 and set(patient.json()["fields"]) == {"name"}
    services.project_abandon(actor=trust.alice, project=active_project, reason="Rotated out.")
    closed = client_for(trust.alice).patch(path, {"unit": "minutes"})
    assert closed.status_code == 409
    measure.refresh_from_db()
    assert (measure.unit, measure.name) == ("%", "ECG within 10 minutes")


def test_list_is_scoped_filtered_and_synced(measure, active_project, trust, client_for):
    other = MeasureFactory()
    alice = client_for(trust.alice)

    def ids(client, **params):
        return [m["id"] for m in client.get("/api/v1/measures/", params).json()["results"]]

    assert ids(alice) == [measure.pk]
    assert ids(alice, project=other.project_id) == []
    assert ids(client_for(trust.olga), project=active_project.pk) == [measure.pk]
    assert ids(client_for(trust.dora)) == [] and ids(client_for(trust.charlie)) == []
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        sync_time = alice.get("/api/v1/measures/").json()["sync_time"]
    assert ids(alice, updated_since=sync_time) == []
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        services.measure_update(actor=trust.alice, measure=measure, target=90)
        assert ids(alice, updated_since=sync_time) == [measure.pk]


def test_detail_answers_if_none_match_with_304(measure, trust, client_for):
    quinn = client_for(trust.quinn)
    first = quinn.get(f"/api/v1/measures/{measure.pk}/")
    assert quinn.get(f"/api/v1/measures/{measure.pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304


def test_list_runs_the_same_queries_for_5_and_100_rows(active_project, trust, client_for):
    for _ in range(100):
        MeasureFactory(project=active_project)
    assert_constant_queries(client_for(trust.alice), "/api/v1/measures/")


# --- many data points in one request ---------------------------------------------------------


def test_team_adds_many_points_at_once(measure, trust, client_for):
    cycle = PDSACycleFactory(project=measure.project)
    points = weekly(30)
    points[10] |= {"note": "Locum week", "pdsa_cycle": cycle.pk}
    response = bulk(client_for(trust.alice), measure, points)
    assert response.status_code == 201, response.json()
    results = response.json()["results"]
    assert [r["date"] for r in results] == [p["date"] for p in points]
    assert (results[0]["numerator"], results[0]["denominator"], results[0]["value"]) == (10, 20, None)
    assert (results[10]["note"], results[10]["pdsa_cycle"]) == ("Locum week", cycle.pk)
    assert all(r["id"] and r["measure"] == measure.pk and r["project"] == measure.project_id for r in results)
    assert measure.data_points.count() == 30


def test_a_value_among_fractions_is_refused_naming_its_row(measure, trust, client_for):
    points = weekly(30)
    points[10] = {"date": points[10]["date"], "value": "12.5"}
    response = bulk(client_for(trust.alice), measure, points)
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "points.10": ["this measure's data points are numerators and denominators, not values"]
    }
    assert not measure.data_points.exists()


def test_1000_points_are_accepted_and_1001_refused(measure, trust, client_for):
    alice = client_for(trust.alice)
    too_many = bulk(alice, measure, weekly(1001, start=dt.date(2000, 1, 3)))
    assert too_many.status_code == 400
    assert set(too_many.json()["fields"]) == {"points"}
    assert not measure.data_points.exists()
    assert bulk(alice, measure, weekly(1000, start=dt.date(2000, 1, 3))).status_code == 201
    assert measure.data_points.count() == 1000


@pytest.mark.parametrize(
    ("bad_row", "field", "message"),
    [
        ({"numerator": 50, "denominator": 40}, "points.3", "numerator cannot be larger"),
        ({"numerator": 5, "denominator": 0}, "points.3", "denominator must be more than 0"),
        ({"value": 3, "numerator": 1, "denominator": 2}, "points.3", "not both"),
        ({}, "points.3", "give either a value"),
        ({"date": "2026-01-05", "value": 1}, "points.3", "already a data point"),
        ({"date": "last week", "value": 1}, "points.3.date", "wrong format"),
        ({"value": "lots"}, "points.3.value", "valid number"),
        ({"numerator": -1, "denominator": 5}, "points.3.numerator", "greater than or equal to 0"),
        ({"value": 2, "note": f"bed 4, {NHS_NUMBER}"}, "points.3.note", "NHS number"),
    ],
)
def test_one_bad_row_saves_nothing_and_is_named(measure, trust, client_for, bad_row, field, message):
    points = weekly(6)
    points[3] = {"date": "2026-03-02", **bad_row}
    response = bulk(client_for(trust.alice), measure, points)
    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == [field]
    assert message in body["fields"][field][0]
    assert not measure.data_points.exists()
    assert not AuditEvent.objects.filter(verb="data_points.added").exists()


def test_a_service_error_detail_counts_rows_from_one(measure, trust, client_for):
    points = weekly(6)
    points[3]["numerator"] = 99
    body = bulk(client_for(trust.alice), measure, points).json()
    assert body["detail"] == "Row 4: the numerator cannot be larger than the denominator."
    assert body["fields"] == {"points.3": ["the numerator cannot be larger than the denominator"]}


def test_a_pdsa_cycle_of_another_project_does_not_exist_here(measure, trust, client_for):
    elsewhere = PDSACycleFactory()
    points = weekly(3)
    points[1]["pdsa_cycle"] = elsewhere.pk
    response = bulk(client_for(trust.alice), measure, points)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["points.1.pdsa_cycle"]
    assert not measure.data_points.exists()


def test_bulk_errors_map_to_status_codes(measure, active_project, trust, client_for):
    points = weekly(3)
    assert bulk(client_for(trust.sam), measure, points).status_code == 403
    assert bulk(client_for(trust.dora), measure, points).status_code == 404
    assert bulk(client_for(trust.charlie), measure, points).status_code == 404
    assert bulk(client_for(trust.alice), measure, []).status_code == 400
    services.project_abandon(actor=trust.alice, project=active_project, reason="Rotated out.")
    closed = bulk(client_for(trust.alice), measure, points)
    assert closed.status_code == 409
    assert closed.json()["detail"] == "This project is abandoned: you cannot enter data."
    assert not DataPoint.objects.exists()
