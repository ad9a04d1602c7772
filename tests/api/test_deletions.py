"""The deletions feed: tombstones of rows a syncing client may hold, and of nothing it could not have seen."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from api.models import Tombstone
from notifications.models import Kind, Notification
from qi.models import DataPoint
from tests.api.conftest import assert_constant_queries
from tests.factories import DepartmentFactory, MeasureFactory, PlacementFactory, ProjectFactory

pytestmark = pytest.mark.django_db

EVERYONE = ("alice", "bob", "sam", "quinn", "olga", "ursula", "dora", "charlie")


def deleted(client, **params) -> set[tuple[str, int]]:
    response = client.get("/api/v1/deletions/", params)
    assert response.status_code == 200, response.json()
    return {(row["resource"], row["object_id"]) for row in response.json()["results"]}


def who_hears_of(trust, client_for, resource: str, object_id: int) -> set[str]:
    return {name for name in EVERYONE if (resource, object_id) in deleted(client_for(getattr(trust, name)))}


def test_a_deleted_data_point_goes_to_those_who_see_its_project(trust, client_for, project):
    measure = MeasureFactory(project=project)
    point = DataPoint.objects.create(measure=measure, date=dt.date(2026, 10, 5), value=40)
    pk = point.pk
    point.delete()
    assert who_hears_of(trust, client_for, "data-points", pk) == {"alice", "bob", "sam", "quinn", "olga"}
    row = client_for(trust.alice).get("/api/v1/deletions/").json()["results"][0]
    assert row == {
        "id": row["id"],
        "resource": "data-points",
        "object_id": pk,
        "project": project.pk,
        "deleted_at": row["deleted_at"],
    }


def test_deleted_projects_and_departments_go_to_the_whole_organisation(trust, client_for):
    project = ProjectFactory(department=trust.cardiology)  # the library may have shown it to anyone
    department = DepartmentFactory(organisation=trust.organisation, name="Renal")
    project_id, department_id = project.pk, department.pk
    project.delete()
    department.delete()
    in_trust = set(EVERYONE) - {"charlie"}
    assert who_hears_of(trust, client_for, "projects", project_id) == in_trust
    assert who_hears_of(trust, client_for, "departments", department_id) == in_trust


def test_a_deleted_placement_goes_to_the_people_it_named_and_the_trusts_qi_leads(trust, client_for):
    placement = PlacementFactory(doctor=trust.dora, department=trust.surgery, educational_supervisor=trust.sam)
    pk = placement.pk
    placement.delete()
    # The organisation's tombstone does not say the department, so every QI lead of the trust hears of it;
    # doctors who see only their own placements (alice, bob) do not.
    assert who_hears_of(trust, client_for, "placements", pk) == {"dora", "sam", "quinn", "olga", "ursula"}


def test_a_supervisor_hears_of_their_only_supervised_placement_being_deleted(trust, client_for):
    """The supervisor holds it because they supervise it, and afterwards supervises nothing at all."""
    placement = PlacementFactory(doctor=trust.bob, department=trust.surgery, clinical_supervisor=trust.dora)
    pk = placement.pk
    placement.delete()
    assert "dora" in who_hears_of(trust, client_for, "placements", pk)


def test_a_deleted_notification_goes_to_its_recipient_only(trust, client_for):
    note = Notification.objects.create(recipient=trust.alice, kind=Kind.DIGEST, dedup_key="d", title="Digest")
    pk = note.pk
    note.delete()
    assert who_hears_of(trust, client_for, "notifications", pk) == {"alice"}


def test_filter_by_resource_and_updated_since_oldest_first(trust, client_for):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        Tombstone.objects.create(resource="notifications", object_id=1, user_id=trust.alice.pk)
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        Tombstone.objects.create(resource="placements", object_id=2, user_id=trust.alice.pk)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        Tombstone.objects.create(resource="notifications", object_id=3, user_id=trust.alice.pk)
    alice = client_for(trust.alice)
    rows = alice.get("/api/v1/deletions/").json()["results"]
    assert [row["object_id"] for row in rows] == [1, 2, 3]
    assert deleted(alice, resource="notifications") == {("notifications", 1), ("notifications", 3)}
    since = (start + dt.timedelta(minutes=4)).isoformat()
    assert deleted(alice, updated_since=since) == {("placements", 2), ("notifications", 3)}
    bad = alice.get("/api/v1/deletions/", {"updated_since": "last week"})
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["updated_since"]


def test_the_client_cannot_reorder_the_feed(trust, client_for):
    for object_id in (1, 2, 3):
        Tombstone.objects.create(resource="notifications", object_id=object_id, user_id=trust.alice.pk)
    rows = client_for(trust.alice).get("/api/v1/deletions/", {"ordering": "-deleted_at"}).json()["results"]
    assert [row["object_id"] for row in rows] == [1, 2, 3]


def test_deletions_need_a_login(anonymous):
    assert anonymous.get("/api/v1/deletions/").status_code == 401


def test_deletion_list_runs_the_same_queries_for_5_and_100_rows(trust, client_for, project):
    for object_id in range(50):
        Tombstone.objects.create(resource="notifications", object_id=object_id, user_id=trust.alice.pk)
        Tombstone.objects.create(resource="milestones", object_id=object_id, project_id=project.pk)
    assert_constant_queries(client_for(trust.alice), "/api/v1/deletions/")
