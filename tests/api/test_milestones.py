"""Milestones over the API: plan, edit with ETags, the submit/approve/request-changes flow, filters, sync."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from qi import services
from qi.models import Milestone, Review, today
from tests.api.conftest import assert_constant_queries
from tests.factories import MembershipFactory, MilestoneFactory, ProjectFactory

pytestmark = pytest.mark.django_db

NHS_NUMBER = "943 476 5919"


def first_milestone(project) -> Milestone:
    return project.milestones.order_by("due_on", "pk").first()


def url(milestone: Milestone, action: str = "") -> str:
    return f"/api/v1/milestones/{milestone.pk}/{action + '/' if action else ''}"


def ids(client, **params) -> list[int]:
    response = client.get("/api/v1/milestones/", params)
    assert response.status_code == 200, response.json()
    return [m["id"] for m in response.json()["results"]]


# --- create and edit -------------------------------------------------------------------------


def test_team_member_adds_a_milestone_to_the_plan(project, trust, client_for):
    response = client_for(trust.bob).post(
        "/api/v1/milestones/",
        {
            "project": project.pk,
            "title": "Present at the audit meeting",
            "due_on": "2027-03-04",
            "kind": "presentation",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["project"], body["title"], body["status"], body["kind"]) == (
        project.pk,
        "Present at the audit meeting",
        "planned",
        "presentation",
    )
    assert body["required"] is True and body["is_overdue"] is False and body["latest_review"] is None
    assert response.headers["ETag"].startswith('W/"')
    assert project.milestones.filter(pk=body["id"]).exists()


@pytest.mark.parametrize("person", ["dora", "charlie", "ursula"])
def test_a_project_outside_my_scope_reads_as_missing_when_adding(project, trust, client_for, person):
    before = project.milestones.count()
    response = client_for(getattr(trust, person)).post(
        "/api/v1/milestones/", {"project": project.pk, "title": "Sneaky", "due_on": "2027-01-01"}
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["project"][0]
    assert project.milestones.count() == before


def test_supervisor_may_not_add_milestones(project, trust, client_for):
    response = client_for(trust.sam).post(
        "/api/v1/milestones/", {"project": project.pk, "title": "x", "due_on": "2027-01-01"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_nhs_number_in_the_description_is_refused_naming_the_field(project, trust, client_for):
    response = client_for(trust.alice).post(
        "/api/v1/milestones/",
        {"project": project.pk, "title": "Case review", "due_on": "2027-01-01", "description": f"Patient {NHS_NUMBER}"},
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"description"}
    assert "NHS number" in response.json()["fields"]["description"][0]


def test_edit_with_if_match_and_a_stale_etag(project, trust, client_for):
    milestone = first_milestone(project)
    alice = client_for(trust.alice)
    etag = alice.get(url(milestone)).headers["ETag"]
    edited = alice.patch(url(milestone), {"title": "Team agreed", "due_on": "2027-01-15"}, HTTP_IF_MATCH=etag)
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["due_on"]) == ("Team agreed", "2027-01-15")
    stale = alice.patch(url(milestone), {"title": "Too late"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    milestone.refresh_from_db()
    assert milestone.title == "Team agreed"


def test_edit_errors_map_to_status_codes(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    assert client_for(trust.sam).patch(url(milestone), {"title": "x"}).status_code == 403
    assert client_for(trust.dora).patch(url(milestone), {"title": "x"}).status_code == 404
    assert client_for(trust.charlie).patch(url(milestone), {"title": "x"}).status_code == 404
    alice = client_for(trust.alice)
    # "required" is settled once the project is active.
    assert alice.patch(url(milestone), {"required": False}).status_code == 409
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Team list and charter.")
    locked = alice.patch(url(milestone), {"title": "Changed after submitting"})
    assert locked.status_code == 409
    assert "no longer be edited" in locked.json()["detail"]


# --- read, scope and ETags -------------------------------------------------------------------


def test_list_and_detail_are_scoped_to_people_who_see_the_project(project, trust, client_for):
    plan = set(project.milestones.values_list("pk", flat=True))
    for person in ("alice", "bob", "sam", "quinn", "olga"):
        assert set(ids(client_for(getattr(trust, person)))) == plan, person
    for person in ("dora", "charlie", "ursula"):
        client = client_for(getattr(trust, person))
        assert ids(client) == [], person
        assert client.get(url(first_milestone(project))).status_code == 404, person


def test_detail_answers_if_none_match_with_304_until_it_changes(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    alice = client_for(trust.alice)
    first = alice.get(url(milestone))
    again = alice.get(url(milestone), HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert again.status_code == 304
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Done.")
    changed = alice.get(url(milestone), HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert changed.status_code == 200
    assert changed.json()["status"] == "submitted"


def test_anonymous_requests_are_401(project, anonymous):
    assert anonymous.get("/api/v1/milestones/").status_code == 401
    assert anonymous.post(url(first_milestone(project), "submit"), {"evidence": "x"}).status_code == 401


# --- submit, approve, request changes --------------------------------------------------------


def test_submit_then_approve(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    submitted = client_for(trust.alice).post(
        url(milestone, "submit"), {"evidence": "Charter signed.", "evidence_url": "https://example.nhs.uk/charter"}
    )
    assert submitted.status_code == 200, submitted.json()
    body = submitted.json()
    assert body["status"] == "submitted"
    assert body["submitted_by"] == {"id": trust.alice.pk, "full_name": "Alice"}
    assert (body["evidence"], body["evidence_url"]) == ("Charter signed.", "https://example.nhs.uk/charter")
    assert body["submitted_at"] is not None and body["decided_at"] is None

    approved = client_for(trust.sam).post(url(milestone, "approve"), {"comment": "Good start."})
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_at"] is not None
    assert approved.json()["latest_review"] == {"decision": "approved", "comment": "Good start."}
    assert Review.objects.get(milestone=milestone).reviewer == trust.sam


def test_request_changes_then_resubmit_keeps_the_latest_review(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    alice, quinn = client_for(trust.alice), client_for(trust.quinn)
    alice.post(url(milestone, "submit"), {"evidence": "Draft charter."})
    no_comment = quinn.post(url(milestone, "request-changes"), {"comment": ""})
    assert no_comment.status_code == 400
    assert set(no_comment.json()["fields"]) == {"comment"}
    sent_back = quinn.post(url(milestone, "request-changes"), {"comment": "Name the team members."})
    assert sent_back.json()["status"] == "changes_requested"
    resubmitted = alice.post(url(milestone, "submit"), {"evidence": "Charter with team named."})
    assert resubmitted.json()["status"] == "submitted"
    assert resubmitted.json()["decided_at"] is None
    assert resubmitted.json()["latest_review"] == {"decision": "changes_requested", "comment": "Name the team members."}


def test_submit_refuses_an_nhs_number_in_the_evidence_naming_the_field(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    response = client_for(trust.alice).post(url(milestone, "submit"), {"evidence": f"NHS {NHS_NUMBER} was audited"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"evidence"}
    assert "NHS number" in response.json()["fields"]["evidence"][0]
    milestone.refresh_from_db()
    assert (milestone.status, milestone.evidence) == ("planned", "")


def test_submit_needs_evidence(active_project, trust, client_for):
    response = client_for(trust.alice).post(url(first_milestone(active_project), "submit"), {"evidence": "  "})
    assert response.status_code == 400
    assert response.json()["fields"] == {"evidence": ["Evidence is required to submit a milestone."]}


def test_submit_errors_map_to_status_codes(project, trust, client_for):
    milestone = first_milestone(project)
    evidence = {"evidence": "Done."}
    draft = client_for(trust.alice).post(url(milestone, "submit"), evidence)
    assert draft.status_code == 409  # the project is still a draft
    assert "active project" in draft.json()["detail"]
    services.project_activate(actor=trust.alice, project=project)
    assert client_for(trust.sam).post(url(milestone, "submit"), evidence).status_code == 403
    assert client_for(trust.dora).post(url(milestone, "submit"), evidence).status_code == 404
    assert client_for(trust.charlie).post(url(milestone, "submit"), evidence).status_code == 404
    milestone.refresh_from_db()
    assert milestone.status == "planned"


def test_review_errors_map_to_status_codes(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    planned = client_for(trust.sam).post(url(milestone, "approve"), {})
    assert planned.status_code == 409
    assert planned.json()["detail"] == "This milestone is planned, not waiting for review."
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Done.")
    assert client_for(trust.bob).post(url(milestone, "approve"), {}).status_code == 403  # on the team
    assert client_for(trust.ursula).post(url(milestone, "approve"), {}).status_code == 404  # other department
    assert client_for(trust.charlie).post(url(milestone, "request-changes"), {"comment": "x"}).status_code == 404
    assert client_for(trust.dora).post(url(milestone, "approve"), {}).status_code == 404
    milestone.refresh_from_db()
    assert milestone.status == "submitted"
    assert not Review.objects.exists()


# --- filters, ordering, sync, query counts ---------------------------------------------------


def test_filters(active_project, trust, client_for):
    plan = list(active_project.milestones.order_by("due_on", "pk"))
    past = MilestoneFactory(project=active_project, kind="analysis", due_on=today() - dt.timedelta(days=3))
    services.milestone_submit(actor=trust.alice, milestone=plan[0], evidence="Done.")
    alice, sam = client_for(trust.alice), client_for(trust.sam)

    assert ids(alice, status="submitted") == [plan[0].pk]
    assert set(ids(alice, status=["submitted", "approved"])) == {plan[0].pk}
    assert ids(alice, overdue="true") == [past.pk]
    assert past.pk not in ids(alice, overdue="false")
    assert ids(alice, kind="analysis", due_before=str(today())) == [past.pk]
    assert set(ids(alice, due_after=str(plan[-1].due_on))) == {m.pk for m in plan if m.due_on >= plan[-1].due_on}
    assert ids(sam, awaiting_my_review="true") == [plan[0].pk]
    assert plan[0].pk not in ids(sam, awaiting_my_review="false")
    assert ids(alice, awaiting_my_review="true") == []  # on the team: never her own to review
    other = ProjectFactory(department=trust.cardiology)
    MembershipFactory(project=other, user=trust.alice, role="lead")
    MilestoneFactory(project=other)
    assert set(ids(alice, project=active_project.pk)) == {m.pk for m in plan} | {past.pk}
    bad = alice.get("/api/v1/milestones/", {"status": "done"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_is_overdue_follows_the_date_and_the_status(active_project, trust, client_for):
    milestone = first_milestone(active_project)
    with time_machine.travel(milestone.due_on + dt.timedelta(days=1)):
        alice = client_for(trust.alice)  # a token made now: one from days ago has expired
        assert alice.get(url(milestone)).json()["is_overdue"] is True
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Late, but done.")
        assert alice.get(url(milestone)).json()["is_overdue"] is False


def test_is_overdue_in_the_list_is_the_rule_of_overdue(active_project, trust, client_for):
    """Every milestone status, due yesterday, today and tomorrow, on an active and on a draft project."""
    draft = ProjectFactory(department=trust.cardiology)
    MembershipFactory(project=draft, user=trust.alice, role="lead")
    for project in (active_project, draft):
        for status in Milestone.Status.values:
            done = {"evidence": "Done.", "submitted_at": timezone.now()} if status in ("submitted", "approved") else {}
            for days in (-1, 0, 1):
                MilestoneFactory(project=project, status=status, due_on=today() + dt.timedelta(days=days), **done)
    overdue = set(Milestone.objects.overdue().values_list("pk", flat=True))
    assert len(overdue) == 2  # planned and changes requested, due yesterday, on the active project
    alice = client_for(trust.alice)
    rows = alice.get("/api/v1/milestones/", {"page_size": 100}).json()["results"]
    assert len(rows) == Milestone.objects.filter(project__in=[active_project, draft]).count()
    assert {row["id"] for row in rows if row["is_overdue"]} == overdue
    assert set(ids(alice, overdue="true", page_size=100)) == overdue
    assert set(ids(alice, overdue="false", page_size=100)) == {row["id"] for row in rows} - overdue


def test_ordering_by_due_date_pages_through_ties_without_gaps(trust, client_for, active_project):
    same_day = today() + dt.timedelta(days=60)
    for _ in range(12):
        MilestoneFactory(project=active_project, due_on=same_day)
    expected = list(active_project.milestones.order_by("due_on", "pk").values_list("pk", flat=True))
    alice = client_for(trust.alice)
    seen: list[int] = []
    next_url, params = "/api/v1/milestones/", {"ordering": "due_on", "page_size": 5}
    while next_url:
        body = alice.get(next_url, params).json()
        seen += [m["id"] for m in body["results"]]
        next_url, params = body["next"], {}
    assert seen == expected
    newest_first = ids(alice, ordering="-due_on", page_size=100)
    assert newest_first == list(reversed(expected))


def test_updated_since_returns_only_changed_milestones(active_project, trust, client_for):
    alice = client_for(trust.alice)
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        sync_time = alice.get("/api/v1/milestones/").json()["sync_time"]
    milestone = first_milestone(active_project)
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Done.")
        assert ids(alice, updated_since=sync_time) == [milestone.pk]


def test_list_runs_the_same_queries_for_5_and_100_rows(active_project, trust, client_for):
    for number in range(100):
        milestone = MilestoneFactory(
            project=active_project,
            status="approved" if number % 2 else "submitted",
            evidence="Done.",
            submitted_at=timezone.now(),
            submitted_by=trust.alice,
            due_on=today() - dt.timedelta(days=number % 3),
        )
        if number % 2:
            Review.objects.create(milestone=milestone, reviewer=trust.sam, decision="approved", comment="Fine")
    count = assert_constant_queries(client_for(trust.sam), "/api/v1/milestones/")
    assert count == assert_constant_queries(client_for(trust.sam), "/api/v1/milestones/", ordering="due_on")
    assert assert_constant_queries(client_for(trust.sam), "/api/v1/milestones/", awaiting_my_review="true", at_least=50)
    # The same for whoever asks: the scope is built from the user's roles, read in one query for everyone.
    for person in (trust.alice, trust.quinn, trust.olga):
        assert assert_constant_queries(client_for(person), "/api/v1/milestones/") == count
