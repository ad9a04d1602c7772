"""Placements: read by the doctor, their supervisors and the QI leads in scope; written by QI leads only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.utils import timezone

from api.models import Tombstone
from qi.models import AuditEvent, Placement, today
from tests.api.conftest import assert_constant_queries
from tests.factories import PlacementFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Rotations:
    alice: Placement  # cardiology, now; sam her clinical supervisor
    dora: Placement  # surgery, now; sam her educational supervisor
    bob_before: Placement  # cardiology, ended last year


@pytest.fixture
def rotations(trust) -> Rotations:
    return Rotations(
        alice=Placement.objects.get(doctor=trust.alice),
        dora=PlacementFactory(doctor=trust.dora, department=trust.surgery, educational_supervisor=trust.sam),
        bob_before=PlacementFactory(
            doctor=trust.bob,
            department=trust.cardiology,
            starts_on=today() - dt.timedelta(days=400),
            ends_on=today() - dt.timedelta(days=280),
        ),
    )


def listed(client, **params) -> set[int]:
    response = client.get("/api/v1/placements/", params)
    assert response.status_code == 200, response.json()
    return {p["id"] for p in response.json()["results"]}


@pytest.mark.parametrize(
    ("person", "sees"),
    [
        ("alice", {"alice"}),  # her own
        ("bob", {"bob_before"}),  # his own, ended
        ("sam", {"alice", "dora"}),  # clinical and educational supervisor
        ("quinn", {"alice", "bob_before"}),  # QI lead of cardiology
        ("ursula", {"dora"}),  # QI lead of surgery
        ("olga", {"alice", "dora", "bob_before"}),  # QI lead of the organisation
        ("dora", {"dora"}),
        ("charlie", set()),  # another trust
    ],
)
def test_who_sees_which_placements(trust, rotations, client_for, person, sees):
    client = client_for(getattr(trust, person))
    assert listed(client) == {getattr(rotations, name).pk for name in sees}
    for name in ("alice", "dora", "bob_before"):
        expected = 200 if name in sees else 404
        assert client.get(f"/api/v1/placements/{getattr(rotations, name).pk}/").status_code == expected


def test_placement_shows_the_people_and_department(trust, rotations, client_for):
    body = client_for(trust.alice).get(f"/api/v1/placements/{rotations.alice.pk}/").json()
    assert body["doctor"] == {"id": trust.alice.pk, "full_name": "Alice"}
    assert body["department"] == {"id": trust.cardiology.pk, "name": "Cardiology"}
    assert body["clinical_supervisor"] == {"id": trust.sam.pk, "full_name": "Sam"}
    assert body["educational_supervisor"] is None
    assert body["starts_on"] == str(rotations.alice.starts_on)


def test_placement_detail_answers_if_none_match_with_304(trust, rotations, client_for):
    quinn = client_for(trust.quinn)
    url = f"/api/v1/placements/{rotations.alice.pk}/"
    etag = quinn.get(url).headers["ETag"]
    assert quinn.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    quinn.patch(url, {"educational_supervisor": trust.olga.pk})
    assert quinn.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_filters_doctor_department_and_current(trust, rotations, client_for):
    olga = client_for(trust.olga)
    assert listed(olga, doctor=trust.bob.pk) == {rotations.bob_before.pk}
    assert listed(olga, department=trust.surgery.pk) == {rotations.dora.pk}
    assert listed(olga, current="true") == {rotations.alice.pk, rotations.dora.pk}
    assert listed(olga, current="false") == {rotations.bob_before.pk}
    assert olga.get("/api/v1/placements/", {"doctor": "alice"}).json()["fields"] == {"doctor": ["Enter a number."]}


def test_updated_since_returns_only_changed_placements(trust, rotations, client_for):
    olga = client_for(trust.olga)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        synced = olga.get("/api/v1/placements/").json()["sync_time"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        olga.patch(f"/api/v1/placements/{rotations.dora.pk}/", {"clinical_supervisor": trust.quinn.pk})
        assert listed(olga, updated_since=synced) == {rotations.dora.pk}


# --- writes ----------------------------------------------------------------------------------


def new_placement(trust, **changes) -> dict:
    return {
        "doctor": trust.bob.pk,
        "department": trust.cardiology.pk,
        "starts_on": str(today() + dt.timedelta(days=10)),
        "ends_on": str(today() + dt.timedelta(days=130)),
        "clinical_supervisor": trust.sam.pk,
        **changes,
    }


@pytest.mark.parametrize(("person", "expected"), [("quinn", 201), ("olga", 201), ("ursula", 403), ("sam", 403)])
def test_only_qi_leads_of_the_department_or_organisation_add_placements(trust, client_for, person, expected):
    response = client_for(getattr(trust, person)).post("/api/v1/placements/", new_placement(trust))
    assert response.status_code == expected, response.json()
    if expected == 201:
        body = response.json()
        assert (body["doctor"]["id"], body["clinical_supervisor"]["id"]) == (trust.bob.pk, trust.sam.pk)
        assert AuditEvent.objects.filter(verb="placement.created", object_id=str(body["id"])).exists()
    else:
        assert response.json()["code"] == "permission_denied"
        assert not Placement.objects.filter(doctor=trust.bob).exists()


def test_the_doctor_may_not_add_their_own_placement(trust, client_for):
    response = client_for(trust.bob).post("/api/v1/placements/", new_placement(trust))
    assert response.status_code == 403


def test_another_trusts_people_and_departments_read_as_missing(trust, client_for):
    olga = client_for(trust.olga)
    response = olga.post("/api/v1/placements/", new_placement(trust, doctor=trust.charlie.pk))
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["doctor"][0]
    charlie_lead = UserFactory(organisation=trust.charlie.organisation)
    response = client_for(charlie_lead).post("/api/v1/placements/", new_placement(trust))
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"doctor", "department", "clinical_supervisor"}


def alices_start(trust) -> str:
    return str(Placement.objects.get(doctor=trust.alice).starts_on)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (lambda t: {"ends_on": str(today())}, "ends_on", "cannot end before it starts"),
        (lambda t: {"clinical_supervisor": "sam"}, "clinical_supervisor", "Incorrect type"),
        (lambda t: {"starts_on": "next week"}, "starts_on", "Date has wrong format"),
        (lambda t: {"educational_supervisor": t.bob.pk}, "educational_supervisor", "cannot supervise their own"),
        (lambda t: {"doctor": t.alice.pk, "starts_on": alices_start(t)}, "starts_on", "already has a placement"),
    ],
)
def test_invalid_placements_name_the_field_and_save_nothing(trust, client_for, changes, field, message):
    before = Placement.objects.count()
    response = client_for(trust.quinn).post("/api/v1/placements/", new_placement(trust, **changes(trust)))
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert message in response.json()["fields"][field][0]
    assert Placement.objects.count() == before


def test_qi_lead_changes_dates_and_supervisors_with_if_match(trust, rotations, client_for):
    quinn = client_for(trust.quinn)
    url = f"/api/v1/placements/{rotations.alice.pk}/"
    etag = quinn.get(url).headers["ETag"]
    new_end = str(rotations.alice.ends_on + dt.timedelta(days=7))
    response = quinn.patch(url, {"ends_on": new_end, "clinical_supervisor": None}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert (response.json()["ends_on"], response.json()["clinical_supervisor"]) == (new_end, None)
    assert quinn.patch(url, {"ends_on": str(today())}, HTTP_IF_MATCH=etag).status_code == 412
    event = AuditEvent.objects.get(verb="placement.updated")
    assert event.before == {"ends_on": str(rotations.alice.ends_on), "clinical_supervisor": trust.sam.pk}
    assert event.after == {"ends_on": new_end, "clinical_supervisor": None}


@pytest.mark.parametrize(
    ("person", "expected"),
    [("quinn", 200), ("olga", 200), ("sam", 403), ("alice", 403), ("ursula", 404), ("dora", 404), ("charlie", 404)],
)
def test_who_may_edit_a_placement(trust, rotations, client_for, person, expected):
    response = client_for(getattr(trust, person)).patch(
        f"/api/v1/placements/{rotations.alice.pk}/", {"ends_on": str(rotations.alice.ends_on + dt.timedelta(days=1))}
    )
    assert response.status_code == expected


def test_moving_a_placement_needs_qi_lead_of_both_departments(trust, rotations, client_for):
    url = f"/api/v1/placements/{rotations.alice.pk}/"
    refused = client_for(trust.quinn).patch(url, {"department": trust.surgery.pk})
    assert refused.status_code == 403
    assert "department" in refused.json()["fields"]
    moved = client_for(trust.olga).patch(url, {"department": trust.surgery.pk})
    assert moved.json()["department"]["name"] == "General surgery"
    # Now in surgery: quinn no longer sees it, ursula does.
    assert client_for(trust.quinn).get(url).status_code == 404
    assert client_for(trust.ursula).get(url).status_code == 200


def test_an_edit_that_breaks_the_dates_names_the_field(trust, rotations, client_for):
    response = client_for(trust.quinn).patch(
        f"/api/v1/placements/{rotations.alice.pk}/", {"ends_on": str(rotations.alice.starts_on - dt.timedelta(days=1))}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ends_on"]


@pytest.mark.parametrize(("person", "expected"), [("quinn", 204), ("sam", 403), ("alice", 403), ("ursula", 404)])
def test_qi_lead_deletes_a_placement_leaving_a_tombstone(trust, rotations, client_for, person, expected):
    pk = rotations.alice.pk
    response = client_for(getattr(trust, person)).delete(f"/api/v1/placements/{pk}/")
    assert response.status_code == expected
    deleted = expected == 204
    assert Placement.objects.filter(pk=pk).exists() is not deleted
    assert Tombstone.objects.filter(resource="placements", object_id=pk).exists() is deleted
    assert AuditEvent.objects.filter(verb="placement.deleted", object_id=str(pk)).exists() is deleted


def test_placements_need_a_login(rotations, anonymous):
    assert anonymous.get("/api/v1/placements/").status_code == 401
    assert anonymous.delete(f"/api/v1/placements/{rotations.alice.pk}/").status_code == 401


def test_placement_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for):
    for _ in range(100):
        PlacementFactory(
            doctor=UserFactory(organisation=trust.organisation),
            department=trust.cardiology,
            educational_supervisor=trust.sam,
            clinical_supervisor=trust.olga,
        )
    assert_constant_queries(client_for(trust.quinn), "/api/v1/placements/")
