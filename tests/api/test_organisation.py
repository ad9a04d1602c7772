"""Organisations and departments (read only): my own organisation and its departments, nobody else's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.api.conftest import assert_constant_queries, queries_for
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_i_see_only_my_own_organisation(trust, client_for):
    body = client_for(trust.dora).get("/api/v1/organisations/").json()
    assert [(o["id"], o["name"], o["code"]) for o in body["results"]] == [
        (trust.organisation.pk, "Riverside NHS Foundation Trust", "RVS")
    ]
    hillside = trust.charlie.organisation
    assert [o["id"] for o in client_for(trust.charlie).get("/api/v1/organisations/").json()["results"]] == [hillside.pk]


def test_another_organisation_is_a_404(trust, client_for):
    dora = client_for(trust.dora)
    assert dora.get(f"/api/v1/organisations/{trust.organisation.pk}/").status_code == 200
    assert dora.get(f"/api/v1/organisations/{trust.charlie.organisation_id}/").status_code == 404


def test_organisations_are_read_only_and_need_a_login(trust, client_for, anonymous):
    olga = client_for(trust.olga)
    assert olga.patch(f"/api/v1/organisations/{trust.organisation.pk}/", {"name": "X"}).status_code == 405
    assert olga.post("/api/v1/departments/", {"name": "Renal"}).status_code == 405
    assert olga.delete(f"/api/v1/departments/{trust.surgery.pk}/").status_code == 405
    assert anonymous.get("/api/v1/organisations/").status_code == 401
    assert anonymous.get("/api/v1/departments/").status_code == 401


def test_organisation_list_runs_a_fixed_number_of_queries(trust, client_for):
    # There is only ever one row: the count must simply not depend on the page size.
    small, _ = queries_for(client_for(trust.dora), "/api/v1/organisations/", page_size=5)
    large, body = queries_for(client_for(trust.dora), "/api/v1/organisations/", page_size=100)
    assert small == large
    assert len(body["results"]) == 1


def test_departments_of_my_organisation_only(trust, client_for):
    DepartmentFactory(organisation=trust.charlie.organisation, name="Hillside cardiology")
    body = client_for(trust.dora).get("/api/v1/departments/").json()
    assert {d["name"] for d in body["results"]} == {"Cardiology", "General surgery"}
    cardiology = next(d for d in body["results"] if d["name"] == "Cardiology")
    assert cardiology == {
        "id": trust.cardiology.pk,
        "name": "Cardiology",
        "specialty": "Cardiology",
        "division": trust.cardiology.division,
        "organisation": trust.organisation.pk,
        "updated_at": cardiology["updated_at"],
    }
    charlie = client_for(trust.charlie)
    assert [d["name"] for d in charlie.get("/api/v1/departments/").json()["results"]] == ["Hillside cardiology"]
    assert charlie.get(f"/api/v1/departments/{trust.cardiology.pk}/").status_code == 404


def test_departments_search_by_name_and_order_by_name(trust, client_for):
    dora = client_for(trust.dora)
    names = lambda **params: [d["name"] for d in dora.get("/api/v1/departments/", params).json()["results"]]  # noqa: E731
    assert names(search="surg") == ["General surgery"]
    assert names(ordering="name") == ["Cardiology", "General surgery"]


def test_departments_updated_since_returns_only_what_changed(trust, client_for):
    dora = client_for(trust.dora)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        synced = dora.get("/api/v1/departments/").json()["sync_time"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        trust.surgery.division = "Surgery and anaesthetics"
        trust.surgery.save()
        changed = dora.get("/api/v1/departments/", {"updated_since": synced}).json()["results"]
    assert [d["id"] for d in changed] == [trust.surgery.pk]


def test_department_detail_answers_if_none_match_with_304(trust, client_for):
    dora = client_for(trust.dora)
    first = dora.get(f"/api/v1/departments/{trust.cardiology.pk}/")
    assert first.status_code == 200 and first.headers["ETag"]
    again = dora.get(f"/api/v1/departments/{trust.cardiology.pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert again.status_code == 304
    org = dora.get(f"/api/v1/organisations/{trust.organisation.pk}/")
    assert dora.get(org.request["PATH_INFO"], HTTP_IF_NONE_MATCH=org.headers["ETag"]).status_code == 304


def test_department_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for):
    DepartmentFactory.create_batch(100, organisation=trust.organisation)
    assert_constant_queries(client_for(trust.dora), "/api/v1/departments/")
