"""Who may do what, endpoint by endpoint, for each kind of person (DESIGN.md, "Who may see and do what").

Every case runs against a fresh world for each of eight people: the project's lead, a team member, its
supervisor, the QI lead of its department, the QI lead of another department, a doctor of the same
organisation, a user of another organisation, and an anonymous client. An object outside a person's
scope is 404; an action they may not take on an object they can see is 403; anonymous is 401.
A list answers 200 to everyone logged in, and the case says who finds the object in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from notifications.models import Kind, Notification
from qi import services
from qi.models import Milestone
from tests.api.conftest import token_client

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
    return World(trust, active_project, draft, planned, submitted, measure, data_point, cycle, review, notification)


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


def list_case(name: str, url: str, listed: Callable[[World], int], sees=PROJECT_SEERS) -> Case:
    return Case(name, "get", lambda w: url, LIST, sees=frozenset(sees), listed=listed)


CASES = [
    # --- projects ---
    list_case("project list", "/api/v1/projects/", lambda w: w.project.pk),
    Case(
        "project create",
        "post",
        lambda w: "/api/v1/projects/",
        statuses(201, 201, 201, 201, 201, 201, 400),
        data=lambda w: {"department": w.trust.cardiology.pk, "title": "New", "problem": "P.", "aim": "A."},
    ),
    Case("project read", "get", lambda w: f"/api/v1/projects/{w.project.pk}/", READ_PROJECT),
    Case(
        "project edit",
        "patch",
        lambda w: f"/api/v1/projects/{w.project.pk}/",
        TEAM_WRITE,
        data=lambda w: {"title": "Renamed"},
    ),
    Case(
        "project activate",
        "post",
        lambda w: f"/api/v1/projects/{w.draft.pk}/activate/",
        statuses(200, 403, 403, 403, 404, 404, 404),
    ),
    Case(
        "project complete",
        "post",
        lambda w: f"/api/v1/projects/{w.project.pk}/complete/",
        statuses(409, 403, 403, 403, 404, 404, 404),
        data=lambda w: {"outcome_summary": "Better.", "lessons_learned": "Start early."},
    ),
    Case(
        "project abandon",
        "post",
        lambda w: f"/api/v1/projects/{w.project.pk}/abandon/",
        statuses(200, 403, 403, 200, 404, 404, 404),
        data=lambda w: {"reason": "Rotated out."},
    ),
    Case(
        "project hand over",
        "post",
        lambda w: f"/api/v1/projects/{w.project.pk}/hand-over/",
        statuses(200, 403, 403, 200, 404, 404, 404),
        data=lambda w: {"successor": w.trust.dora.pk},
    ),
    Case(
        "project supervisor",
        "post",
        lambda w: f"/api/v1/projects/{w.project.pk}/supervisor/",
        statuses(200, 403, 403, 200, 404, 404, 404),
        data=lambda w: {"supervisor": w.trust.olga.pk},
    ),
    Case("team list", "get", lambda w: f"/api/v1/projects/{w.project.pk}/members/", READ_PROJECT),
    Case(
        "team add",
        "post",
        lambda w: f"/api/v1/projects/{w.project.pk}/members/",
        statuses(201, 403, 403, 201, 404, 404, 404),
        data=lambda w: {"user": w.trust.dora.pk},
    ),
    Case(
        "team remove",
        "delete",
        lambda w: f"/api/v1/projects/{w.project.pk}/members/{w.trust.bob.pk}/",
        statuses(204, 204, 403, 204, 404, 404, 404),
    ),  # bob may leave himself
]


def _request(client: APIClient, case: Case, world: World):
    method = getattr(client, case.method)
    if case.method in ("get", "delete"):
        return method(case.url(world))
    return method(case.url(world), case.data(world))


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.replace(" ", "-"))
def test_access(case: Case, person: str, world: World):
    user = world.person(person)
    client = token_client(user) if user else APIClient()
    response = _request(client, case, world)
    expected = case.expect[PEOPLE.index(person)]
    assert response.status_code == expected, (person, response.status_code, response.content[:300])
    if case.sees is not None and expected == 200:
        ids = [row["id"] for row in response.json()["results"]]
        assert (case.listed(world) in ids) == (person in case.sees), (person, ids)
