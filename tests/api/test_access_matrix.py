"""Who may do what, endpoint by endpoint, for each kind of person (DESIGN.md, "Who may see and do what").

Every case runs against one world, once for each of eight people, each request rolled back after it:
the project's lead, a team member, its supervisor, the QI lead of its department, the QI lead of another
department, a doctor of the same organisation, a user of another organisation, and an anonymous client.
An object outside a person's scope is 404; an action they may not take on an object they can see is 403;
anonymous is 401.
A list answers 200 to everyone logged in, and the case says who finds the object in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import Tombstone
from notifications.models import Kind, Notification
from qi import services
from qi.models import AuditEvent, Milestone, Placement, Project
from tests.api.conftest import token_client
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PEOPLE = ("lead", "member", "supervisor", "qi_lead", "other_qi_lead", "colleague", "outsider", "anonymous")
LOGGED_IN = PEOPLE[:-1]


@dataclass
class World:
    trust: Any
    project: Any  # active: alice leads, bob on the team, sam supervises, cardiology
    draft: Any  # a draft with the same people
    planned: Milestone
    submitted: Milestone
    measure: Any
    data_point: Any
    cycle: Any
    review: Any
    notification: Notification  # alice's
    extra: dict = field(default_factory=dict)

    def person(self, kind: str):
        t = self.trust
        return {
            "lead": t.alice,
            "member": t.bob,
            "supervisor": t.sam,
            "qi_lead": t.quinn,
            "other_qi_lead": t.ursula,
            "colleague": t.dora,
            "outsider": t.charlie,
            "anonymous": None,
        }[kind]


@pytest.fixture
def world(trust, active_project) -> World:
    alice = trust.alice
    draft = services.project_create(
        actor=alice, department=trust.cardiology, title="Discharge letters", problem="Late.", aim="90% in 24 h."
    )
    services.project_member_add(actor=alice, project=draft, user=trust.bob)
    milestones = list(active_project.milestones.order_by("due_on", "pk"))
    planned, submitted, reviewed = milestones[0], milestones[1], milestones[2]
    services.milestone_submit(actor=alice, milestone=submitted, evidence="Agreed at the meeting.")
    services.milestone_submit(actor=alice, milestone=reviewed, evidence="Baseline collected.")
    review = services.milestone_approve(actor=trust.sam, milestone=reviewed, comment="Good.")
    measure = services.measure_create(
        actor=alice, project=active_project, name="ECG in 10 min", operational_definition="Weekly audit.", better="up"
    )
    (data_point,) = services.data_points_add(actor=alice, measure=measure, rows=[{"date": "2026-10-05", "value": 40}])
    cycle = services.pdsa_cycle_create(actor=alice, project=active_project, change_idea="ECG prompt at triage.")
    notification = Notification.objects.create(
        recipient=alice, kind=Kind.MILESTONE_APPROVED, dedup_key="matrix", title="Approved", project=active_project
    )
    completed = ProjectFactory(
        department=trust.surgery,
        status=Project.Status.COMPLETED,
        completed_at=timezone.now(),
        outcome_summary="Falls halved.",
        lessons_learned="Involve the night team.",
    )
    extra = {
        "completed": completed,
        "placement": Placement.objects.get(doctor=alice),
        "audit_event": AuditEvent.objects.filter(project=active_project).latest("pk"),
        "tombstone": Tombstone.objects.create(resource="milestones", object_id=987654, project_id=active_project.pk),
    }
    return World(
        trust, active_project, draft, planned, submitted, measure, data_point, cycle, review, notification, extra
    )


@dataclass
class Case:
    """One request, and the status each kind of person gets (in the order of PEOPLE)."""

    name: str
    method: str
    url: Callable[[World], str]
    expect: tuple[int, ...]
    data: Callable[[World], dict] = lambda w: {}
    sees: frozenset[str] | None = None  # for lists: who finds `listed(world)` in the results
    listed: Callable[[World], int] | None = None

    def __post_init__(self) -> None:
        assert len(self.expect) == len(PEOPLE), self.name


def statuses(lead, member, supervisor, qi_lead, other_qi_lead, colleague, outsider, anonymous=401):
    return (lead, member, supervisor, qi_lead, other_qi_lead, colleague, outsider, anonymous)


READ_PROJECT = statuses(200, 200, 200, 200, 404, 404, 404)
TEAM_WRITE = statuses(200, 200, 403, 403, 404, 404, 404)
TEAM_CREATE = statuses(201, 201, 403, 403, 404, 404, 404)
LIST = statuses(200, 200, 200, 200, 200, 200, 200)
PROJECT_SEERS = frozenset({"lead", "member", "supervisor", "qi_lead"})
IN_TRUST = frozenset(LOGGED_IN) - {"outsider"}
TRUST_READ = statuses(200, 200, 200, 200, 200, 200, 404)
OWNER_ONLY = statuses(200, 404, 404, 404, 404, 404, 404)
REVIEW = statuses(403, 403, 200, 200, 404, 404, 404)
# Creating a child names its project (or measure) in the body: one the person cannot see "does not exist" (400).
CHILD_CREATE = statuses(201, 201, 403, 403, 400, 400, 400)


def list_case(name: str, url: str, listed: Callable[[World], int], sees=PROJECT_SEERS) -> Case:
    return Case(name, "get", lambda w: url, LIST, sees=frozenset(sees), listed=listed)


# fmt: off
CASES = [
    # --- projects ---
    list_case("project list", "/api/v1/projects/", lambda w: w.project.pk),
    Case("project create", "post", lambda w: "/api/v1/projects/", statuses(201, 201, 201, 201, 201, 201, 400),
         data=lambda w: {"department": w.trust.cardiology.pk, "title": "New", "problem": "P.", "aim": "A."}),
    Case("project read", "get", lambda w: f"/api/v1/projects/{w.project.pk}/", READ_PROJECT),
    Case("project edit", "patch", lambda w: f"/api/v1/projects/{w.project.pk}/", TEAM_WRITE,
         data=lambda w: {"title": "Renamed"}),
    Case("project activate", "post", lambda w: f"/api/v1/projects/{w.draft.pk}/activate/",
         statuses(200, 403, 403, 403, 404, 404, 404)),
    Case("project complete", "post", lambda w: f"/api/v1/projects/{w.project.pk}/complete/",
         statuses(409, 403, 403, 403, 404, 404, 404),
         data=lambda w: {"outcome_summary": "Better.", "lessons_learned": "Start early."}),
    Case("project abandon", "post", lambda w: f"/api/v1/projects/{w.project.pk}/abandon/",
         statuses(200, 403, 403, 200, 404, 404, 404), data=lambda w: {"reason": "Rotated out."}),
    Case("project hand over", "post", lambda w: f"/api/v1/projects/{w.project.pk}/hand-over/",
         statuses(200, 403, 403, 200, 404, 404, 404), data=lambda w: {"successor": w.trust.dora.pk}),
    Case("project supervisor", "post", lambda w: f"/api/v1/projects/{w.project.pk}/supervisor/",
         statuses(200, 403, 403, 200, 404, 404, 404), data=lambda w: {"supervisor": w.trust.olga.pk}),
    Case("team list", "get", lambda w: f"/api/v1/projects/{w.project.pk}/members/", READ_PROJECT),
    Case("team add", "post", lambda w: f"/api/v1/projects/{w.project.pk}/members/",
         statuses(201, 403, 403, 201, 404, 404, 404), data=lambda w: {"user": w.trust.dora.pk}),
    Case("team remove", "delete", lambda w: f"/api/v1/projects/{w.project.pk}/members/{w.trust.bob.pk}/",
         statuses(204, 204, 403, 204, 404, 404, 404)),  # bob may leave himself
    # --- milestones and reviews ---
    list_case("milestone list", "/api/v1/milestones/", lambda w: w.planned.pk),
    Case("milestone create", "post", lambda w: "/api/v1/milestones/", CHILD_CREATE,
         data=lambda w: {"project": w.project.pk, "title": "Poster", "due_on": "2027-01-10"}),
    Case("milestone read", "get", lambda w: f"/api/v1/milestones/{w.planned.pk}/", READ_PROJECT),
    Case("milestone edit", "patch", lambda w: f"/api/v1/milestones/{w.planned.pk}/", TEAM_WRITE,
         data=lambda w: {"title": "Proposal and team agreed"}),
    Case("milestone submit", "post", lambda w: f"/api/v1/milestones/{w.planned.pk}/submit/", TEAM_WRITE,
         data=lambda w: {"evidence": "Team met on Monday."}),
    Case("milestone approve", "post", lambda w: f"/api/v1/milestones/{w.submitted.pk}/approve/", REVIEW,
         data=lambda w: {"comment": "Good."}),
    Case("milestone request changes", "post", lambda w: f"/api/v1/milestones/{w.submitted.pk}/request-changes/",
         REVIEW, data=lambda w: {"comment": "Add the baseline."}),
    list_case("review list", "/api/v1/reviews/", lambda w: w.review.pk),
    Case("review read", "get", lambda w: f"/api/v1/reviews/{w.review.pk}/", READ_PROJECT),
    # --- PDSA cycles ---
    list_case("pdsa list", "/api/v1/pdsa-cycles/", lambda w: w.cycle.pk),
    Case("pdsa create", "post", lambda w: "/api/v1/pdsa-cycles/", CHILD_CREATE,
         data=lambda w: {"project": w.project.pk, "change_idea": "Sticker on the ECG machine."}),
    Case("pdsa read", "get", lambda w: f"/api/v1/pdsa-cycles/{w.cycle.pk}/", READ_PROJECT),
    Case("pdsa edit", "patch", lambda w: f"/api/v1/pdsa-cycles/{w.cycle.pk}/", TEAM_WRITE,
         data=lambda w: {"study": "Times fell."}),
    # --- measures and data points ---
    list_case("measure list", "/api/v1/measures/", lambda w: w.measure.pk),
    Case("measure create", "post", lambda w: "/api/v1/measures/", CHILD_CREATE,
         data=lambda w: {"project": w.project.pk, "name": "Door to ECG", "operational_definition": "Minutes.",
                         "better": "down"}),
    Case("measure read", "get", lambda w: f"/api/v1/measures/{w.measure.pk}/", READ_PROJECT),
    Case("measure edit", "patch", lambda w: f"/api/v1/measures/{w.measure.pk}/", TEAM_WRITE,
         data=lambda w: {"unit": "%"}),
    Case("data points bulk", "post", lambda w: f"/api/v1/measures/{w.measure.pk}/data-points/", TEAM_CREATE,
         data=lambda w: {"points": [{"date": "2026-10-12", "value": 45}, {"date": "2026-10-19", "value": 50}]}),
    list_case("data point list", "/api/v1/data-points/", lambda w: w.data_point.pk),
    Case("data point create", "post", lambda w: "/api/v1/data-points/", CHILD_CREATE,
         data=lambda w: {"measure": w.measure.pk, "date": "2026-10-26", "value": 55}),
    Case("data point read", "get", lambda w: f"/api/v1/data-points/{w.data_point.pk}/", READ_PROJECT),
    Case("data point edit", "patch", lambda w: f"/api/v1/data-points/{w.data_point.pk}/", TEAM_WRITE,
         data=lambda w: {"value": 41}),
    Case("data point delete", "delete", lambda w: f"/api/v1/data-points/{w.data_point.pk}/",
         statuses(204, 204, 403, 403, 404, 404, 404)),
    # --- the audit trail and deletions ---
    Case("audit trail", "get", lambda w: f"/api/v1/audit-events/?project={w.project.pk}", LIST,
         sees=PROJECT_SEERS, listed=lambda w: w.extra["audit_event"].pk),
    list_case("deletions", "/api/v1/deletions/", lambda w: w.extra["tombstone"].pk),
    # --- me, organisation, departments ---
    Case("me", "get", lambda w: "/api/v1/me/", LIST),
    Case("me edit", "patch", lambda w: "/api/v1/me/", LIST, data=lambda w: {"full_name": "A. N. Other"}),
    Case("my preferences", "get", lambda w: "/api/v1/me/preferences/", LIST),
    Case("my preferences edit", "patch", lambda w: "/api/v1/me/preferences/", LIST, data=lambda w: {"digest": "off"}),
    Case("my dashboard", "get", lambda w: "/api/v1/me/dashboard/", LIST),
    list_case("organisation list", "/api/v1/organisations/", lambda w: w.trust.organisation.pk, sees=IN_TRUST),
    Case("organisation read", "get", lambda w: f"/api/v1/organisations/{w.trust.organisation.pk}/", TRUST_READ),
    list_case("department list", "/api/v1/departments/", lambda w: w.trust.cardiology.pk, sees=IN_TRUST),
    Case("department read", "get", lambda w: f"/api/v1/departments/{w.trust.cardiology.pk}/", TRUST_READ),
    # --- placements: alice's, in cardiology, sam her clinical supervisor ---
    list_case("placement list", "/api/v1/placements/", lambda w: w.extra["placement"].pk,
              sees={"lead", "supervisor", "qi_lead"}),
    Case("placement read", "get", lambda w: f"/api/v1/placements/{w.extra['placement'].pk}/",
         statuses(200, 404, 200, 200, 404, 404, 404)),
    Case("placement create", "post", lambda w: "/api/v1/placements/", statuses(403, 403, 403, 201, 403, 403, 400),
         data=lambda w: {"doctor": w.trust.dora.pk, "department": w.trust.cardiology.pk,
                         "starts_on": "2027-02-01", "ends_on": "2027-07-31"}),
    Case("placement edit", "patch", lambda w: f"/api/v1/placements/{w.extra['placement'].pk}/",
         statuses(403, 404, 403, 200, 404, 404, 404), data=lambda w: {"clinical_supervisor": w.trust.olga.pk}),
    Case("placement delete", "delete", lambda w: f"/api/v1/placements/{w.extra['placement'].pk}/",
         statuses(403, 404, 403, 204, 404, 404, 404)),
    # --- notifications: alice's ---
    list_case("notification list", "/api/v1/notifications/", lambda w: w.notification.pk, sees={"lead"}),
    Case("notification read", "get", lambda w: f"/api/v1/notifications/{w.notification.pk}/", OWNER_ONLY),
    Case("notification mark read", "post", lambda w: f"/api/v1/notifications/{w.notification.pk}/read/", OWNER_ONLY),
    Case("notifications mark all read", "post", lambda w: "/api/v1/notifications/read-all/", LIST),
    # --- the learning library: a completed surgery project ---
    list_case("library list", "/api/v1/library/", lambda w: w.extra["completed"].pk, sees=IN_TRUST),
    Case("library read", "get", lambda w: f"/api/v1/library/{w.extra['completed'].pk}/", TRUST_READ),
    Case("library hides open projects", "get", lambda w: f"/api/v1/library/{w.project.pk}/",
         statuses(404, 404, 404, 404, 404, 404, 404)),
    # --- devices ---
    Case("device list", "get", lambda w: "/api/v1/auth/devices/", LIST),
    Case("log out", "post", lambda w: "/api/v1/auth/logout/", statuses(204, 204, 204, 204, 204, 204, 204)),
    Case("log out everywhere", "post", lambda w: "/api/v1/auth/logout-everywhere/",
         statuses(204, 204, 204, 204, 204, 204, 204)),
]
# fmt: on


def _request(client: APIClient, case: Case, world: World):
    method = getattr(client, case.method)
    if case.method in ("get", "delete"):
        return method(case.url(world))
    return method(case.url(world), case.data(world))


def _outcome(case: Case, person: str, world: World) -> str | None:
    """Make the request as this person inside a savepoint rolled back afterwards; say what was wrong, if anything."""
    user = world.person(person)
    client = token_client(user) if user else APIClient()
    with transaction.atomic():
        response = _request(client, case, world)
        transaction.set_rollback(True)  # the next person meets the same world
    expected = case.expect[PEOPLE.index(person)]
    if response.status_code != expected:
        return f"{person}: expected {expected}, got {response.status_code} {response.content[:200]!r}"
    if case.sees is not None and expected == 200:
        ids = [row["id"] for row in response.json()["results"]]
        if (case.listed(world) in ids) != (person in case.sees):
            return f"{person}: {'should' if person in case.sees else 'should not'} find it in {ids}"
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.replace(" ", "-"))
def test_access(case: Case, world: World):
    wrong = [problem for person in PEOPLE if (problem := _outcome(case, person, world))]
    assert wrong == [], "\n".join(wrong)


# Single objects (lists carry sees=...); the dashboard and team list are views of many rows, not one object.
DETAILS = [
    case
    for case in CASES
    if case.method == "get"
    and case.sees is None
    and case.name not in ("my dashboard", "team list", "device list", "audit trail", "library hides open projects")
]


@pytest.mark.parametrize("case", DETAILS, ids=lambda c: c.name.replace(" ", "-"))
def test_every_detail_has_an_etag_and_answers_if_none_match_with_304(case: Case, world: World):
    person = PEOPLE[case.expect.index(200)]
    client = token_client(world.person(person))
    first = client.get(case.url(world))
    assert first.headers.get("ETag", "").startswith('W/"'), case.name
    again = client.get(case.url(world), HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert again.status_code == 304, case.name
    assert again.content == b""
