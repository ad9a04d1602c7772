"""Access rules: each kind of user against the table in DESIGN.md, rule functions and list scoping alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from qi import access, services
from qi.models import Milestone, Project, Role
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    MilestoneFactory,
    PlacementFactory,
    ProjectFactory,
    UserFactory,
)

# person -> (sees whole project, may edit, may review, may hand over, may manage team)
EXPECTED = {
    "alice": (True, True, False, True, True),  # lead
    "bob": (True, True, False, False, False),  # team member
    "sam": (True, False, True, False, False),  # supervisor
    "quinn": (True, False, True, True, True),  # QI lead of the department
    "olga": (True, False, True, True, True),  # QI lead of the organisation
    "ursula": (False, False, False, False, False),  # QI lead of another department
    "dora": (False, False, False, False, False),  # doctor in the same trust
    "charlie": (False, False, False, False, False),  # another trust
}


@pytest.mark.parametrize("person", EXPECTED)
def test_rule_functions_follow_the_access_table(trust, active_project, person):
    user = getattr(trust, person)
    sees, edits, reviews, hands_over, manages = EXPECTED[person]
    assert access.can_view_project(user, active_project) is sees
    assert access.can_edit_project(user, active_project) is edits
    assert access.can_review(user, active_project) is reviews
    assert access.can_review_milestone(user, active_project.milestones.first()) is reviews
    assert access.can_hand_over(user, active_project) is hands_over
    assert access.can_manage_team(user, active_project) is manages


@pytest.mark.parametrize("person", EXPECTED)
def test_lists_are_scoped_by_the_same_rules(trust, active_project, person):
    user = getattr(trust, person)
    sees, _, reviews, _, _ = EXPECTED[person]
    assert list(Project.objects.visible_to(user)) == ([active_project] if sees else [])
    visible_milestones = Milestone.objects.visible_to(user)
    assert visible_milestones.count() == (active_project.milestones.count() if sees else 0)
    assert Milestone.objects.reviewable_by(user).exists() is reviews


def test_anonymous_users_see_nothing(trust, active_project):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not access.can_view_project(anonymous, active_project)
    assert not access.can_view_in_library(anonymous, active_project)
    assert not access.can_review(anonymous, active_project)
    assert not Project.objects.visible_to(anonymous).exists()
    assert not Project.objects.in_library_of(anonymous).exists()
    assert not Milestone.objects.reviewable_by(anonymous).exists()


def test_visible_to_lists_each_project_once(trust, active_project):
    # olga is QI lead of the organisation; make her supervisor too: two reasons, one row.
    services.project_supervisor_set(actor=trust.alice, project=active_project, supervisor=trust.olga)
    assert Project.objects.visible_to(trust.olga).count() == 1


def test_a_former_member_keeps_read_access_but_may_no_longer_edit(trust, active_project):
    services.project_member_remove(actor=trust.alice, project=active_project, user=trust.bob)
    assert access.can_view_project(trust.bob, active_project)
    assert list(Project.objects.visible_to(trust.bob)) == [active_project]
    assert not access.can_edit_project(trust.bob, active_project)


def test_a_lead_who_hands_over_keeps_the_project_for_their_portfolio(trust, active_project):
    services.project_hand_over(actor=trust.alice, project=active_project, successor=trust.bob)
    assert access.can_view_project(trust.alice, active_project)
    assert not access.can_edit_project(trust.alice, active_project)
    assert not access.can_hand_over(trust.alice, active_project)


def test_review_queues_hold_only_active_projects(trust, active_project):
    milestone = active_project.milestones.first()
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Evidence")
    assert Milestone.objects.reviewable_by(trust.sam).awaiting_review().count() == 1
    services.project_abandon(actor=trust.alice, project=active_project, reason="Data access withdrawn")
    assert not Milestone.objects.reviewable_by(trust.sam).exists()
    assert not Milestone.objects.awaiting_review().exists()


def complete(project, trust):
    for milestone in project.milestones.filter(required=True):
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Evidence")
        services.milestone_approve(actor=trust.sam, milestone=milestone)
    return services.project_complete(
        actor=trust.alice, project=project, outcome_summary="ECG times halved", lessons_learned="Ask the nurses"
    )


@pytest.mark.parametrize(("person", "in_library"), [("dora", True), ("ursula", True), ("charlie", False)])
def test_the_learning_library_holds_completed_projects_of_the_same_trust(trust, active_project, person, in_library):
    user = getattr(trust, person)
    assert not access.can_view_in_library(user, active_project)  # not completed yet
    assert not Project.objects.in_library_of(user).exists()
    complete(active_project, trust)
    active_project.refresh_from_db()
    assert access.can_view_in_library(user, active_project) is in_library
    assert Project.objects.in_library_of(user).exists() is in_library
    assert not access.can_view_project(user, active_project)  # the library is a summary, not the project


def test_a_qi_lead_reviews_only_where_not_on_the_team(trust, active_project):
    services.project_member_add(actor=trust.alice, project=active_project, user=trust.olga)
    assert access.can_view_project(trust.olga, active_project)
    assert not access.can_review(trust.olga, active_project)
    assert not Milestone.objects.reviewable_by(trust.olga).exists()


def test_only_the_lead_completes_but_qi_leads_may_abandon(trust, active_project):
    assert access.can_complete(trust.alice, active_project)
    assert not access.can_complete(trust.quinn, active_project)
    assert access.can_abandon(trust.quinn, active_project)
    assert not access.can_abandon(trust.bob, active_project)


@pytest.mark.parametrize(
    ("person", "sees", "manages"),
    [
        ("alice", {"alice"}, set()),  # her own placement
        ("sam", {"alice", "dora"}, set()),  # supervises both
        ("quinn", {"alice"}, {"cardiology"}),
        ("ursula", {"dora"}, {"surgery"}),
        ("olga", {"alice", "dora"}, {"cardiology", "surgery"}),
        ("dora", {"dora"}, set()),
        ("charlie", set(), set()),
    ],
)
def test_placements_are_seen_by_doctor_supervisors_and_qi_leads_and_managed_by_qi_leads(trust, person, sees, manages):
    placements = {
        "alice": trust.alice.placements.get(),
        "dora": PlacementFactory(doctor=trust.dora, department=trust.surgery, educational_supervisor=trust.sam),
    }
    user = getattr(trust, person)
    assert set(access.placements_visible_to(user)) == {placements[name] for name in sees}
    assert {name for name, p in placements.items() if access.can_view_placement(user, p)} == sees
    departments = {"cardiology": trust.cardiology, "surgery": trust.surgery}
    assert {name for name, d in departments.items() if access.can_manage_placements(user, d)} == manages


def test_anonymous_users_see_and_manage_no_placements(trust):
    assert not access.placements_visible_to(AnonymousUser()).exists()
    assert not access.can_manage_placements(AnonymousUser(), trust.cardiology)


# --- visible_to against the rule functions, for every kind of person ---------------------------------


@pytest.fixture
def world(trust, active_project):
    """Projects in both departments and in another trust, and the people the trust fixture lacks.

    Returns (projects by name, people by name). fred left a team; root is a superuser and staff member
    with no part in any project; ivy is inactive (she left the trust) but stays on a team and keeps her
    QI lead role; hana is QI lead of the whole of the other trust and of Riverside's surgery.
    """
    hillside = trust.charlie.organisation
    wards = DepartmentFactory(organisation=hillside, name="Wards")
    extra = {
        "fred": UserFactory(organisation=trust.organisation),
        "root": UserFactory(organisation=trust.organisation, is_superuser=True, is_staff=True),
        "ivy": UserFactory(organisation=trust.organisation, is_active=False),
        "hana": UserFactory(organisation=hillside),
    }
    Role.objects.create(user=extra["ivy"], organisation=trust.organisation, department=trust.surgery)
    Role.objects.create(user=extra["hana"], organisation=hillside, department=None)
    Role.objects.create(user=extra["hana"], organisation=trust.organisation, department=trust.surgery)
    projects = {
        "ecg": active_project,  # cardiology: alice leads, bob on the team, sam supervises
        "sepsis": ProjectFactory(department=trust.surgery, supervisor=trust.sam, status="active"),
        "falls": ProjectFactory(
            department=trust.cardiology, status="abandoned", abandoned_at=timezone.now(), abandon_reason="Moved"
        ),
        "unstaffed": ProjectFactory(department=trust.cardiology),
        "hillside": ProjectFactory(department=wards, supervisor=trust.charlie),
    }
    MembershipFactory(project=projects["sepsis"], user=trust.dora, role="lead")
    MembershipFactory(project=projects["sepsis"], user=extra["ivy"])
    joined = timezone.now() - dt.timedelta(days=30)
    MembershipFactory(project=projects["falls"], user=extra["fred"], role="lead", joined_at=joined, left_at=joined)
    MembershipFactory(project=projects["falls"], user=trust.alice)
    MembershipFactory(project=projects["hillside"], user=trust.charlie, role="lead")
    for project in projects.values():
        MilestoneFactory(project=project)
    people = {name: getattr(trust, name) for name in EXPECTED} | extra
    return projects, people


SEES = {
    "alice": {"ecg", "falls"},  # leads one, member of another
    "bob": {"ecg"},
    "sam": {"ecg", "sepsis"},  # supervises both, in two departments
    "quinn": {"ecg", "falls", "unstaffed"},  # the cardiology projects
    "olga": {"ecg", "sepsis", "falls", "unstaffed"},  # the whole trust, not Hillside
    "ursula": {"sepsis"},  # surgery
    "dora": {"sepsis"},
    "charlie": {"hillside"},  # leads and supervises it: one row
    "fred": {"falls"},  # left the team: kept for his portfolio
    "root": set(),  # the admin site is where staff see everything
    "ivy": {"sepsis"},  # inactive: the rules do not look at is_active (sign-in does)
    "hana": {"hillside", "sepsis"},  # QI lead of a whole trust and of a department of another
}


@pytest.mark.parametrize("person", SEES)
def test_visible_to_returns_the_projects_the_rule_functions_allow(world, person):
    projects, people = world
    user = people[person]
    allowed = {name for name, project in projects.items() if access.can_view_project(user, project)}
    assert allowed == SEES[person]
    visible = list(Project.objects.visible_to(user).values_list("pk", flat=True))
    assert sorted(visible) == sorted(projects[name].pk for name in allowed)  # each project once
    milestones = Milestone.objects.filter(project__in=[projects[name] for name in allowed])
    assert set(Milestone.objects.visible_to(user)) == set(milestones)


@pytest.mark.parametrize("person", ["alice", "quinn", "olga", "hana"])
def test_visible_to_composes_with_other_filters(world, person):
    user = world[1][person]
    active = {project.pk for project in Project.objects.visible_to(user) if project.status == "active"}
    assert set(Project.objects.filter(status="active").visible_to(user).values_list("pk", flat=True)) == active
    assert set(Project.objects.visible_to(user).filter(status="active").values_list("pk", flat=True)) == active
    assert Project.objects.visible_to(user).exclude(pk__in=active).filter(status="active").count() == 0


@pytest.mark.parametrize("person", ["dora", "quinn", "olga", "hana", "root"])
def test_visible_to_reads_the_roles_once_then_runs_one_query(world, person, django_assert_num_queries):
    user = world[1][person]
    for queryset in (Project.objects, Milestone.objects):
        with django_assert_num_queries(1):  # the roles
            visible = queryset.visible_to(user)
        with django_assert_num_queries(1):  # the rows
            list(visible)


def test_visible_to_reads_the_roles_when_called(world):
    projects, people = world
    before = Project.objects.visible_to(people["dora"])
    Role.objects.create(user=people["dora"], organisation=people["dora"].organisation, department=None)
    assert set(before) == {projects["sepsis"]}
    assert set(Project.objects.visible_to(people["dora"])) == set(Project.objects.visible_to(people["olga"]))
