"""Data points over the API: one at a time, corrections, deletion with a tombstone, filters for charts, sync."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from api.models import Tombstone
from qi import services
from qi.models import AuditEvent, DataPoint, Measure
from tests.api.conftest import assert_constant_queries
from tests.factories import MeasureFactory, PDSACycleFactory

pytestmark = pytest.mark.django_db

NHS_NUMBER = "943 476 5919"


@pytest.fixture
def measure(active_project, trust) -> Measure:
    return services.measure_create(
        actor=trust.alice,
        project=active_project,
        name="Door to ECG",
        operational_definition="Median minutes from arrival to ECG, weekly.",
        better="down",
        unit="minutes",
    )


@pytest.fixture
def points(measure, trust) -> list[DataPoint]:
    rows = [{"date": dt.date(2026, 1, 5) + dt.timedelta(weeks=week), "value": 22 - week} for week in range(5)]
    return services.data_points_add(actor=trust.alice, measure=measure, rows=rows)


def point_ids(client, **params) -> list[int]:
    response = client.get("/api/v1/data-points/", params)
    assert response.status_code == 200, response.json()
    return [p["id"] for p in response.json()["results"]]


# --- one at a time ---------------------------------------------------------------------------


def test_team_adds_one_point(measure, trust, client_for):
    response = client_for(trust.bob).post(
        "/api/v1/data-points/", {"measure": measure.pk, "date": "2026-02-02", "value": 14.25, "note": "Half term"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["measure"], body["project"], body["date"], body["value"], body["note"]) == (
        measure.pk,
        measure.project_id,
        "2026-02-02",
        "14.25",
        "Half term",
    )
    assert response.headers["ETag"].startswith('W/"')
    assert measure.data_points.get().value == 14.25


def test_one_point_errors_speak_of_the_point_not_of_row_1(measure, points, trust, client_for):
    alice = client_for(trust.alice)
    fraction = alice.post(
        "/api/v1/data-points/", {"measure": measure.pk, "date": "2026-03-02", "numerator": 5, "denominator": 4}
    )
    assert fraction.status_code == 400
    assert fraction.json()["detail"] == "The numerator cannot be larger than the denominator."
    taken = alice.post("/api/v1/data-points/", {"measure": measure.pk, "date": "2026-01-05", "value": 3})
    assert taken.status_code == 400
    assert taken.json()["detail"] == "There is already a data point for 05 Jan 2026."
    patient = alice.post(
        "/api/v1/data-points/", {"measure": measure.pk, "date": "2026-03-02", "value": 3, "note": f"NHS {NHS_NUMBER}"}
    )
    assert patient.status_code == 400
    assert set(patient.json()["fields"]) == {"note"}
    assert "NHS number" in patient.json()["fields"]["note"][0]
    assert measure.data_points.count() == len(points)


def test_one_point_access(measure, trust, client_for):
    new = {"measure": measure.pk, "date": "2026-03-02", "value": 3}
    assert client_for(trust.sam).post("/api/v1/data-points/", new).status_code == 403
    for person in ("dora", "charlie"):
        hidden = client_for(getattr(trust, person)).post("/api/v1/data-points/", new)
        assert hidden.status_code == 400
        assert "does not exist" in hidden.json()["fields"]["measure"][0]
    assert not measure.data_points.exists()


# --- corrections and deletion ----------------------------------------------------------------


def test_team_corrects_a_point_switching_to_a_fraction(points, trust, client_for):
    point = points[0]
    cycle = PDSACycleFactory(project=point.measure.project)
    alice = client_for(trust.alice)
    etag = alice.get(f"/api/v1/data-points/{point.pk}/").headers["ETag"]
    both = alice.patch(f"/api/v1/data-points/{point.pk}/", {"numerator": 3, "denominator": 4})
    assert both.status_code == 400
    assert "not both" in both.json()["detail"]
    mixed = alice.patch(f"/api/v1/data-points/{point.pk}/", {"value": None, "numerator": 3, "denominator": 4})
    assert mixed.status_code == 400  # the measure's other points are values: one measure, one kind of figure
    assert mixed.json()["detail"] == "This measure's data points are values, not numerators and denominators."
    for other in points[1:]:
        services.data_point_delete(actor=trust.alice, point=other)
    switched = alice.patch(
        f"/api/v1/data-points/{point.pk}/",
        {"value": None, "numerator": 3, "denominator": 4, "pdsa_cycle": cycle.pk},
        HTTP_IF_MATCH=etag,
    )
    assert switched.status_code == 200, switched.json()
    assert (switched.json()["value"], switched.json()["numerator"], switched.json()["pdsa_cycle"]) == (
        None,
        3,
        cycle.pk,
    )
    assert AuditEvent.objects.get(verb="data_point.updated").before == {
        "value": "22.0000",
        "numerator": None,
        "denominator": None,
        "pdsa_cycle": None,
    }
    stale = alice.patch(f"/api/v1/data-points/{point.pk}/", {"note": "x"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412


def test_correction_errors(points, trust, client_for):
    point = points[0]
    path = f"/api/v1/data-points/{point.pk}/"
    alice = client_for(trust.alice)
    taken = alice.patch(path, {"date": str(points[1].date)})
    assert taken.status_code == 400 and set(taken.json()["fields"]) == {"date"}
    assert alice.patch(path, {"pdsa_cycle": PDSACycleFactory().pk}).status_code == 400
    assert client_for(trust.sam).patch(path, {"value": 1}).status_code == 403
    assert client_for(trust.dora).patch(path, {"value": 1}).status_code == 404
    point.refresh_from_db()
    assert (point.value, point.date) == (22, dt.date(2026, 1, 5))


def test_team_deletes_a_point_and_syncing_clients_learn_of_it(points, trust, client_for):
    point = points[2]
    response = client_for(trust.bob).delete(f"/api/v1/data-points/{point.pk}/")
    assert response.status_code == 204
    assert not DataPoint.objects.filter(pk=point.pk).exists()
    assert Tombstone.objects.filter(resource="data-points", object_id=point.pk).exists()
    event = AuditEvent.objects.get(verb="data_point.deleted")
    assert (event.object_id, event.before["value"], event.before["date"]) == (str(point.pk), "20.0000", "2026-01-19")


def test_delete_errors_map_to_status_codes(points, active_project, trust, client_for):
    path = f"/api/v1/data-points/{points[0].pk}/"
    assert client_for(trust.sam).delete(path).status_code == 403
    assert client_for(trust.dora).delete(path).status_code == 404
    assert client_for(trust.charlie).delete(path).status_code == 404
    services.project_abandon(actor=trust.alice, project=active_project, reason="Rotated out.")
    closed = client_for(trust.alice).delete(path)
    assert closed.status_code == 409
    assert closed.json()["detail"] == "This project is abandoned: you cannot delete its data."
    assert DataPoint.objects.filter(pk=points[0].pk).exists()


# --- reading ---------------------------------------------------------------------------------


def test_list_is_scoped_and_filtered_for_a_chart(measure, points, trust, client_for):
    other_measure = MeasureFactory(project=measure.project)
    services.data_points_add(actor=trust.alice, measure=other_measure, rows=[{"date": dt.date(2026, 1, 5), "value": 1}])
    elsewhere = MeasureFactory()
    DataPoint.objects.create(measure=elsewhere, date=dt.date(2026, 1, 5), value=1)
    alice = client_for(trust.alice)
    in_date_order = [p.pk for p in points]
    assert point_ids(alice, measure=measure.pk, ordering="date") == in_date_order
    assert point_ids(alice, measure=measure.pk, ordering="-date") == in_date_order[::-1]
    assert (
        point_ids(alice, measure=measure.pk, date_after="2026-01-12", date_before="2026-01-26", ordering="date")
        == (in_date_order[1:4])
    )
    assert len(point_ids(alice, project=measure.project_id)) == 6
    assert point_ids(alice, measure=elsewhere.pk) == []
    for person in ("dora", "charlie", "ursula"):
        client = client_for(getattr(trust, person))
        assert point_ids(client) == [], person
        assert client.get(f"/api/v1/data-points/{points[0].pk}/").status_code == 404, person


def test_updated_since_and_etag(points, trust, client_for):
    alice = client_for(trust.alice)
    first = alice.get(f"/api/v1/data-points/{points[0].pk}/")
    assert (
        alice.get(f"/api/v1/data-points/{points[0].pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304
    )
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        sync_time = alice.get("/api/v1/data-points/").json()["sync_time"]
    assert point_ids(alice, updated_since=sync_time) == []
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        services.data_point_update(actor=trust.alice, point=points[3], note="Staff sickness")
        assert point_ids(alice, updated_since=sync_time) == [points[3].pk]


def test_list_runs_the_same_queries_for_5_and_100_rows(measure, trust, client_for):
    cycle = PDSACycleFactory(project=measure.project)
    rows = [
        {
            "date": dt.date(2026, 1, 5) + dt.timedelta(days=day),
            "numerator": day,
            "denominator": 100,
            "pdsa_cycle": cycle,
        }
        for day in range(100)
    ]
    services.data_points_add(actor=trust.alice, measure=measure, rows=rows)
    assert_constant_queries(client_for(trust.sam), "/api/v1/data-points/")
    assert_constant_queries(client_for(trust.sam), "/api/v1/data-points/", measure=measure.pk, ordering="date")
