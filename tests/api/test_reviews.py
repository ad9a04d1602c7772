"""Reviews over the API: read only, scoped to the projects a person sees, synced by the time they were made."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from qi import services
from qi.models import Review
from tests.api.conftest import assert_constant_queries
from tests.factories import MilestoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(active_project, trust):
    """The first two milestones of alice's project: one approved by sam, one sent back by quinn."""
    first, second = active_project.milestones.order_by("due_on", "pk")[:2]
    for milestone in (first, second):
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Done.")
    approval = services.milestone_approve(actor=trust.sam, milestone=first, comment="Good.")
    changes = services.milestone_request_changes(actor=trust.quinn, milestone=second, comment="Add the data.")
    return approval, changes


def review_ids(client, **params) -> list[int]:
    response = client.get("/api/v1/reviews/", params)
    assert response.status_code == 200, response.json()
    return [r["id"] for r in response.json()["results"]]


def test_team_reads_reviews_newest_first(reviewed, trust, client_for):
    approval, changes = reviewed
    body = client_for(trust.bob).get("/api/v1/reviews/").json()
    assert [r["id"] for r in body["results"]] == [changes.pk, approval.pk]
    assert body["results"][0] == {
        "id": changes.pk,
        "milestone": changes.milestone_id,
        "project": changes.milestone.project_id,
        "reviewer": {"id": trust.quinn.pk, "full_name": "Quinn"},
        "decision": "changes_requested",
        "comment": "Add the data.",
        "created_at": body["results"][0]["created_at"],
    }


def test_reviews_are_scoped_and_outsiders_get_404(reviewed, trust, client_for):
    approval, _ = reviewed
    for person in ("alice", "sam", "quinn", "olga"):
        assert len(review_ids(client_for(getattr(trust, person)))) == 2, person
    for person in ("dora", "ursula", "charlie"):
        client = client_for(getattr(trust, person))
        assert review_ids(client) == [], person
        assert client.get(f"/api/v1/reviews/{approval.pk}/").status_code == 404, person


def test_reviews_are_read_only(reviewed, trust, client_for):
    approval, _ = reviewed
    sam = client_for(trust.sam)
    assert sam.post("/api/v1/reviews/", {"milestone": approval.milestone_id}).status_code == 405
    assert sam.patch(f"/api/v1/reviews/{approval.pk}/", {"comment": "Edited"}).status_code == 405
    assert sam.delete(f"/api/v1/reviews/{approval.pk}/").status_code == 405


def test_filter_by_milestone_and_project(reviewed, trust, client_for, active_project):
    approval, changes = reviewed
    alice = client_for(trust.alice)
    assert review_ids(alice, milestone=approval.milestone_id) == [approval.pk]
    assert set(review_ids(alice, project=active_project.pk)) == {approval.pk, changes.pk}
    assert review_ids(alice, project=active_project.pk + 1000) == []


def test_updated_since_lists_reviews_made_since(active_project, trust, client_for):
    alice = client_for(trust.alice)
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        sync_time = alice.get("/api/v1/reviews/").json()["sync_time"]
    milestone = active_project.milestones.order_by("due_on", "pk").first()
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Done.")
        review = services.milestone_approve(actor=trust.sam, milestone=milestone)
        assert review_ids(alice, updated_since=sync_time) == [review.pk]
    assert review_ids(alice, updated_since=(start + dt.timedelta(minutes=30)).isoformat()) == []


def test_detail_answers_if_none_match_with_304(reviewed, trust, client_for):
    approval, _ = reviewed
    alice = client_for(trust.alice)
    first = alice.get(f"/api/v1/reviews/{approval.pk}/")
    assert first.json()["decision"] == "approved"
    assert alice.get(f"/api/v1/reviews/{approval.pk}/", HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304


def test_list_runs_the_same_queries_for_5_and_100_rows(active_project, trust, client_for):
    for number in range(100):
        milestone = MilestoneFactory(
            project=active_project, status="approved", evidence="Done.", submitted_at=timezone.now()
        )
        reviewer = trust.sam if number % 2 else trust.quinn
        Review.objects.create(milestone=milestone, reviewer=reviewer, decision="approved", comment=f"Review {number}")
    assert_constant_queries(client_for(trust.alice), "/api/v1/reviews/")
