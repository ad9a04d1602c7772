"""Cursor pagination and delta sync, shown on the project list (every list shares the same classes)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from qi import services
from qi.models import Project
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def alices_projects(trust, count: int) -> list[Project]:
    projects = []
    for number in range(count):
        project = ProjectFactory(department=trust.cardiology, supervisor=trust.sam, title=f"Project {number}")
        MembershipFactory(project=project, user=trust.alice, role="lead")
        projects.append(project)
    return projects


def test_paging_with_next_links_is_stable_while_rows_are_added(trust, client_for):
    originals = {p.pk for p in alices_projects(trust, 25)}
    client = client_for(trust.alice)
    seen: list[int] = []
    url, params = "/api/v1/projects/", {"page_size": 10}
    while url:
        body = client.get(url, params).json()
        seen += [p["id"] for p in body["results"]]
        alices_projects(trust, 1)  # a new row arrives between pages: it sorts first, before the cursor
        url, params = body["next"], {}
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)


def test_page_size_is_capped_at_100(trust, client_for):
    alices_projects(trust, 101)
    body = client_for(trust.alice).get("/api/v1/projects/", {"page_size": 500}).json()
    assert len(body["results"]) == 100
    assert body["next"]


def test_updated_since_returns_only_what_changed_and_sync_time_overlaps(trust, client_for, project, settings):
    settings.API_SYNC_OVERLAP_SECONDS = 60
    client = client_for(trust.alice)
    other = alices_projects(trust, 1)[0]
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        first = client.get("/api/v1/projects/").json()
        assert parse_datetime(first["sync_time"]) == timezone.now() - dt.timedelta(seconds=60)
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        services.project_update(actor=trust.alice, project=project, title="Faster ECGs")
        changed = client.get("/api/v1/projects/", {"updated_since": first["sync_time"]}).json()
    assert [p["id"] for p in changed["results"]] == [project.pk]
    assert other.pk != project.pk


def test_a_new_team_member_syncs_the_project_they_joined(trust, client_for, project):
    """Joining moves the project's updated_at, so an incremental sync of the new member picks it up."""
    dora = client_for(trust.dora)
    before = dora.get("/api/v1/projects/").json()
    assert before["results"] == []
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        services.project_member_add(actor=trust.alice, project=project, user=trust.dora)
        after = dora.get("/api/v1/projects/", {"updated_since": before["sync_time"]}).json()
    assert [p["id"] for p in after["results"]] == [project.pk]


def test_bad_updated_since_is_a_400_naming_the_parameter(trust, client_for):
    response = client_for(trust.alice).get("/api/v1/projects/", {"updated_since": "yesterday"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["updated_since"]
