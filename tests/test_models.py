"""Every database constraint of qi.models, proven by the database itself, and the model-level reads.

A bad row is saved with ``save()`` (which skips ``full_clean()``) inside ``transaction.atomic()``,
so the database refuses it and PostgreSQL can carry on; the matching good row then saves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, ProtectedError
from django.utils import timezone

from qi.models import (
    AuditEvent,
    DataPoint,
    Handover,
    Measure,
    Milestone,
    Placement,
    Project,
    ProjectMembership,
    Review,
    Role,
    User,
    current_placement,
)
from tests.factories import (
    DepartmentFactory,
    MeasureFactory,
    MembershipFactory,
    MilestoneFactory,
    OrganisationFactory,
    PDSACycleFactory,
    PlacementFactory,
    ProjectFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = dt.date


def assert_refused(constraint: str, save: Callable[[], object]) -> None:
    """The database refuses what ``save`` writes, citing the constraint; the transaction stays usable.

    PostgreSQL names every constraint in its error; SQLite names check constraints, and
    lists the columns of a unique one instead.
    """
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        save()
    message = str(refused.value)
    if connection.vendor == "postgresql" or "CHECK constraint failed" in message:
        assert constraint in message


# --- People and organisations -------------------------------------------------------------------


def test_department_name_is_unique_within_its_organisation():
    department = DepartmentFactory(name="Cardiology")
    assert_refused(
        "department_name_unique_in_organisation",
        lambda: DepartmentFactory(organisation=department.organisation, name="Cardiology"),
    )
    DepartmentFactory(name="Cardiology")  # the same name in another trust


def test_email_is_stored_in_lower_case():
    user = UserFactory(email="  Alice.Smith@Example.NHS.uk ")
    user.refresh_from_db()
    assert user.email == "alice.smith@example.nhs.uk"
    assert User.objects.get_by_natural_key("ALICE.SMITH@example.nhs.uk") == user


def test_database_refuses_an_email_in_mixed_case():
    user = UserFactory(email="bob@example.nhs.uk")
    assert_refused("user_email_lower_case", lambda: User.objects.filter(pk=user.pk).update(email="Bob@Example.nhs.uk"))
    User.objects.filter(pk=user.pk).update(email="robert@example.nhs.uk")


def test_email_is_unique_whatever_its_case():
    UserFactory(email="carol@example.nhs.uk")
    assert_refused("email", lambda: UserFactory(email="Carol@Example.NHS.uk"))
    UserFactory(email="carol2@example.nhs.uk")


@pytest.mark.parametrize("gmc_number", ["123456", "A123456", "123 456", "12345-6"])
def test_gmc_number_must_be_seven_digits(gmc_number):
    assert_refused("user_gmc_number_7_digits", lambda: UserFactory(gmc_number=gmc_number))
    UserFactory(gmc_number="1234567")


def test_gmc_number_is_unique_when_set():
    UserFactory(gmc_number="2345678")
    assert_refused("user_gmc_number_unique", lambda: UserFactory(gmc_number="2345678"))


def test_several_users_may_have_no_gmc_number():
    UserFactory(gmc_number="")
    UserFactory(gmc_number="")
    assert User.objects.filter(gmc_number="").count() == 2


def test_role_is_unique_per_department():
    department = DepartmentFactory()
    user = UserFactory(organisation=department.organisation)
    Role.objects.create(user=user, organisation=department.organisation, department=department)
    assert_refused(
        "role_unique_per_department",
        lambda: Role.objects.create(user=user, organisation=department.organisation, department=department),
    )
    other = DepartmentFactory(organisation=department.organisation)
    Role.objects.create(user=user, organisation=department.organisation, department=other)


def test_role_is_unique_per_organisation():
    organisation = OrganisationFactory()
    user = UserFactory(organisation=organisation)
    Role.objects.create(user=user, organisation=organisation, department=None)
    assert_refused(
        "role_unique_per_organisation",
        lambda: Role.objects.create(user=user, organisation=organisation, department=None),
    )
    # A department role beside the organisation role is fine.
    Role.objects.create(user=user, organisation=organisation, department=DepartmentFactory(organisation=organisation))


def test_placement_cannot_end_before_it_starts():
    assert_refused(
        "placement_ends_after_start", lambda: PlacementFactory(starts_on=D(2025, 8, 6), ends_on=D(2025, 8, 5))
    )
    PlacementFactory(starts_on=D(2025, 8, 6), ends_on=D(2025, 8, 6))


def test_a_doctor_cannot_start_two_placements_on_the_same_day():
    placement = PlacementFactory(starts_on=D(2025, 8, 6), ends_on=D(2025, 12, 2))
    assert_refused(
        "placement_unique_start_per_doctor",
        lambda: PlacementFactory(doctor=placement.doctor, starts_on=D(2025, 8, 6), ends_on=D(2025, 9, 1)),
    )
    PlacementFactory(doctor=placement.doctor, starts_on=D(2025, 12, 3), ends_on=D(2026, 4, 1))


# --- Projects -----------------------------------------------------------------------------------


def test_project_cannot_end_before_it_starts():
    assert_refused("project_ends_after_start", lambda: ProjectFactory(starts_on=D(2025, 3, 1), ends_on=D(2025, 2, 28)))
    ProjectFactory(starts_on=D(2025, 3, 1), ends_on=D(2025, 3, 1))


def test_project_status_must_be_a_known_one():
    assert_refused("project_status_valid", lambda: ProjectFactory(status="paused"))
    for status in ("draft", "active"):
        ProjectFactory(status=status)


def test_completed_project_needs_a_completion_time():
    assert_refused(
        "project_completed_has_outcome",
        lambda: ProjectFactory(status="completed", outcome_summary="Door-to-ECG fell to 8 minutes."),
    )


def test_completed_project_needs_an_outcome():
    assert_refused(
        "project_completed_has_outcome",
        lambda: ProjectFactory(status="completed", completed_at=timezone.now(), outcome_summary=""),
    )
    ProjectFactory(
        status="completed",
        completed_at=timezone.now(),
        outcome_summary="Door-to-ECG fell to 8 minutes.",
        lessons_learned="Involve triage nurses early.",
    )


def test_completed_project_needs_lessons_learned():
    assert_refused(
        "project_completed_has_outcome",
        lambda: ProjectFactory(status="completed", completed_at=timezone.now(), outcome_summary="Better"),
    )


def test_abandoned_project_needs_a_reason():
    assert_refused(
        "project_abandoned_has_reason",
        lambda: ProjectFactory(status="abandoned", abandoned_at=timezone.now(), abandon_reason=""),
    )


def test_abandoned_project_needs_an_abandonment_time():
    assert_refused(
        "project_abandoned_has_reason",
        lambda: ProjectFactory(status="abandoned", abandon_reason="The lead rotated out."),
    )
    ProjectFactory(status="abandoned", abandoned_at=timezone.now(), abandon_reason="The lead rotated out.")


def test_project_has_at_most_one_current_lead():
    lead = MembershipFactory(role=ProjectMembership.Role.LEAD)
    assert_refused(
        "project_one_current_lead", lambda: MembershipFactory(project=lead.project, role=ProjectMembership.Role.LEAD)
    )
    lead.left_at = timezone.now()
    lead.save()
    MembershipFactory(project=lead.project, role=ProjectMembership.Role.LEAD)
    assert lead.project.memberships.filter(role="lead").count() == 2


def test_user_has_at_most_one_current_membership_of_a_project():
    membership = MembershipFactory()
    assert_refused(
        "membership_unique_current", lambda: MembershipFactory(project=membership.project, user=membership.user)
    )


def test_past_membership_does_not_block_rejoining_a_project():
    joined = timezone.now() - dt.timedelta(days=30)
    past = MembershipFactory(joined_at=joined, left_at=joined + dt.timedelta(days=10))
    MembershipFactory(project=past.project, user=past.user)
    assert ProjectMembership.objects.filter(project=past.project, user=past.user).count() == 2


def test_membership_cannot_end_before_it_starts():
    joined = timezone.now()
    assert_refused(
        "membership_leaves_after_joining",
        lambda: MembershipFactory(joined_at=joined, left_at=joined - dt.timedelta(seconds=1)),
    )
    MembershipFactory(joined_at=joined, left_at=joined)


def test_handover_must_be_to_someone_else():
    project = ProjectFactory()
    lead, successor = UserFactory(), UserFactory()
    assert_refused(
        "handover_to_someone_else",
        lambda: Handover.objects.create(project=project, from_lead=lead, to_lead=lead, handed_over_by=lead),
    )
    Handover.objects.create(project=project, from_lead=lead, to_lead=successor, handed_over_by=lead)


# --- Milestones and reviews ---------------------------------------------------------------------


def test_milestone_status_must_be_a_known_one():
    assert_refused("milestone_status_valid", lambda: MilestoneFactory(status="done"))
    MilestoneFactory(status="changes_requested")


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_submitted_or_approved_milestone_needs_evidence(status):
    assert_refused(
        "milestone_submitted_has_evidence",
        lambda: MilestoneFactory(status=status, evidence="", submitted_at=timezone.now()),
    )


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_submitted_or_approved_milestone_needs_a_submission_time(status):
    assert_refused(
        "milestone_submitted_has_evidence",
        lambda: MilestoneFactory(status=status, evidence="Slides attached.", submitted_at=None),
    )
    MilestoneFactory(status=status, evidence="Slides attached.", submitted_at=timezone.now())


@pytest.mark.parametrize("status", ["approved", "changes_requested"])
def test_a_decided_milestone_needs_a_decision_time(status):
    submitted = {"evidence": "Slides attached.", "submitted_at": timezone.now()}
    assert_refused("milestone_decided_has_time", lambda: MilestoneFactory(status=status, decided_at=None, **submitted))
    MilestoneFactory(status=status, decided_at=timezone.now(), **submitted)


def _submitted_milestone() -> Milestone:
    return MilestoneFactory(status="submitted", evidence="Baseline chart.", submitted_at=timezone.now())


def test_review_decision_must_be_a_known_one():
    milestone, reviewer = _submitted_milestone(), UserFactory()
    assert_refused(
        "review_decision_valid", lambda: Review.objects.create(milestone=milestone, reviewer=reviewer, decision="maybe")
    )
    Review.objects.create(milestone=milestone, reviewer=reviewer, decision="approved")


def test_review_requesting_changes_needs_a_comment():
    milestone, reviewer = _submitted_milestone(), UserFactory()
    assert_refused(
        "review_changes_have_comment",
        lambda: Review.objects.create(milestone=milestone, reviewer=reviewer, decision="changes_requested", comment=""),
    )
    Review.objects.create(
        milestone=milestone, reviewer=reviewer, decision="changes_requested", comment="Add a run chart."
    )


# --- PDSA cycles, measures and data -------------------------------------------------------------


def test_pdsa_number_is_unique_within_a_project():
    cycle = PDSACycleFactory(number=1)
    assert_refused("pdsa_number_unique_in_project", lambda: PDSACycleFactory(project=cycle.project, number=1))
    PDSACycleFactory(project=cycle.project, number=2)
    PDSACycleFactory(number=1)  # another project's first cycle


def test_pdsa_number_starts_at_one():
    assert_refused("pdsa_number_positive", lambda: PDSACycleFactory(number=0))
    PDSACycleFactory(number=1)


def test_pdsa_cycle_cannot_end_before_it_starts():
    assert_refused("pdsa_ends_after_start", lambda: PDSACycleFactory(starts_on=D(2025, 4, 2), ends_on=D(2025, 4, 1)))
    PDSACycleFactory(starts_on=D(2025, 4, 2), ends_on=D(2025, 4, 2))
    PDSACycleFactory(starts_on=D(2025, 4, 2), ends_on=None)


def test_pdsa_act_must_be_adopt_adapt_or_abandon():
    assert_refused("pdsa_act_valid", lambda: PDSACycleFactory(act="continue"))
    for act in ("", "adopt", "adapt", "abandon"):
        PDSACycleFactory(act=act)


def test_measure_name_is_unique_within_a_project():
    measure = MeasureFactory(name="Door-to-ECG time")
    assert_refused(
        "measure_name_unique_in_project", lambda: MeasureFactory(project=measure.project, name="Door-to-ECG time")
    )
    MeasureFactory(name="Door-to-ECG time")


def test_measure_direction_must_be_up_or_down():
    assert_refused("measure_direction_valid", lambda: MeasureFactory(better="flat"))
    MeasureFactory(better=Measure.Direction.DOWN)


@pytest.fixture
def measure() -> Measure:
    return MeasureFactory()


@pytest.mark.parametrize(
    "figures",
    [
        {"value": 5, "numerator": 1, "denominator": 2},
        {},
        {"numerator": 1},
        {"denominator": 2},
        {"value": 5, "numerator": 1},
        {"value": 5, "denominator": 2},
    ],
    ids=["value-and-fraction", "nothing", "numerator-only", "denominator-only", "value-and-numerator", "value-and-den"],
)
def test_data_point_holds_a_value_or_a_fraction_not_both(measure, figures):
    assert_refused(
        "datapoint_value_or_fraction", lambda: DataPoint.objects.create(measure=measure, date=D(2025, 1, 6), **figures)
    )


def test_data_point_with_a_value_or_a_fraction_saves(measure):
    DataPoint.objects.create(measure=measure, date=D(2025, 1, 6), value=12.5)
    DataPoint.objects.create(measure=measure, date=D(2025, 1, 13), numerator=0, denominator=4)
    DataPoint.objects.create(measure=measure, date=D(2025, 1, 20), numerator=4, denominator=4)
    assert measure.data_points.count() == 3


def test_data_point_denominator_must_be_positive(measure):
    assert_refused(
        "datapoint_denominator_positive",
        lambda: DataPoint.objects.create(measure=measure, date=D(2025, 1, 6), numerator=0, denominator=0),
    )


def test_data_point_numerator_cannot_exceed_denominator(measure):
    assert_refused(
        "datapoint_numerator_within_denominator",
        lambda: DataPoint.objects.create(measure=measure, date=D(2025, 1, 6), numerator=5, denominator=4),
    )


def test_measure_has_one_data_point_per_date(measure):
    DataPoint.objects.create(measure=measure, date=D(2025, 1, 6), value=1)
    assert_refused(
        "datapoint_one_per_date", lambda: DataPoint.objects.create(measure=measure, date=D(2025, 1, 6), value=2)
    )
    DataPoint.objects.create(measure=MeasureFactory(project=measure.project), date=D(2025, 1, 6), value=2)


# --- The audit trail is append-only -------------------------------------------------------------


@pytest.fixture
def audit_event() -> AuditEvent:
    project = ProjectFactory()
    return AuditEvent.objects.create(
        verb="project.created",
        object_type="qi.project",
        object_id=str(project.pk),
        object_repr=str(project),
        project=project,
        after={"status": "draft"},
    )


def test_audit_event_cannot_be_saved_again(audit_event):
    audit_event.verb = "project.forged"
    with pytest.raises(TypeError, match="append-only"):
        audit_event.save()
    audit_event.refresh_from_db()
    assert audit_event.verb == "project.created"


def test_audit_event_cannot_be_deleted(audit_event):
    with pytest.raises(TypeError, match="append-only"):
        audit_event.delete()
    assert AuditEvent.objects.filter(pk=audit_event.pk).exists()


def test_audit_events_cannot_be_updated_in_bulk(audit_event):
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=audit_event.pk).update(verb="project.forged")
    # bulk_update runs in an atomic block of its own without a savepoint: give it one.
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        AuditEvent.objects.bulk_update([audit_event], ["verb"])
    assert AuditEvent.objects.get(pk=audit_event.pk).verb == "project.created"


def test_audit_events_cannot_be_deleted_in_bulk(audit_event):
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=audit_event.pk).delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


def test_project_with_an_audit_trail_cannot_be_deleted(audit_event):
    with pytest.raises(ProtectedError):
        audit_event.project.delete()
    assert AuditEvent.objects.filter(pk=audit_event.pk).exists()


# --- Milestone deadlines, on a frozen London calendar -------------------------------------------

TODAY = D(2025, 3, 10)


def _frozen_at(date: dt.date, hour: int = 12):
    return time_machine.travel(dt.datetime(date.year, date.month, date.day, hour, tzinfo=LONDON), tick=False)


@pytest.fixture
def milestones():
    """Milestones around TODAY, keyed by a description of their state."""
    project = ProjectFactory(
        status=Project.Status.ACTIVE, starts_on=TODAY - dt.timedelta(days=60), ends_on=TODAY + dt.timedelta(days=60)
    )
    submitted = {"evidence": "Done.", "submitted_at": timezone.now()}

    def make(days: int, status: str = "planned", **fields) -> Milestone:
        return MilestoneFactory(project=project, due_on=TODAY + dt.timedelta(days=days), status=status, **fields)

    return {
        "planned, due yesterday": make(-1),
        "changes requested, due last week": make(-7, "changes_requested"),
        "submitted, due yesterday": make(-1, "submitted", **submitted),
        "approved, due last week": make(-7, "approved", **submitted),
        "planned, due today": make(0),
        "planned, due in 7 days": make(7),
        "changes requested, due in 3 days": make(3, "changes_requested"),
        "submitted, due in 3 days": make(3, "submitted", **submitted),
        "planned, due in 8 days": make(8),
    }


def _names(queryset, milestones) -> set[str]:
    by_pk = {m.pk: name for name, m in milestones.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


def test_overdue_milestones_are_past_due_and_not_yet_submitted(milestones):
    with _frozen_at(TODAY):
        overdue = _names(Milestone.objects.overdue(), milestones)
    assert overdue == {"planned, due yesterday", "changes requested, due last week"}


def test_milestone_is_overdue_agrees_with_the_queryset(milestones):
    with _frozen_at(TODAY):
        for name, milestone in milestones.items():
            assert milestone.is_overdue() == (name in {"planned, due yesterday", "changes requested, due last week"})


def test_milestone_due_today_is_not_overdue_until_tomorrow(milestones):
    due_today = milestones["planned, due today"]
    with _frozen_at(TODAY, hour=23):
        assert not due_today.is_overdue()
        assert not Milestone.objects.overdue().filter(pk=due_today.pk).exists()
    with _frozen_at(TODAY + dt.timedelta(days=1), hour=0):
        assert due_today.is_overdue()
        assert Milestone.objects.overdue().filter(pk=due_today.pk).exists()


def test_overdue_follows_the_london_calendar_not_utc():
    milestone = MilestoneFactory(due_on=D(2025, 6, 30), project__status=Project.Status.ACTIVE)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST): the milestone is a day late.
    with time_machine.travel(dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        assert milestone.is_overdue()
        assert Milestone.objects.overdue().filter(pk=milestone.pk).exists()


def test_overdue_on_a_given_date(milestones):
    on = TODAY + dt.timedelta(days=8)
    overdue = _names(Milestone.objects.overdue(on=on), milestones)
    assert overdue == {
        "planned, due yesterday",
        "changes requested, due last week",
        "planned, due today",
        "planned, due in 7 days",
        "changes requested, due in 3 days",
    }
    assert milestones["planned, due today"].is_overdue(on=on)


def _set_project_status(project: Project, status: str) -> None:
    closed = {
        Project.Status.COMPLETED: {"completed_at": timezone.now(), "outcome_summary": "Done", "lessons_learned": "Ask"},
        Project.Status.ABANDONED: {"abandoned_at": timezone.now(), "abandon_reason": "Moved on"},
    }
    Project.objects.filter(pk=project.pk).update(status=status, **closed.get(status, {}))


@pytest.mark.parametrize("project_status", Project.Status.values)
@pytest.mark.parametrize("days", [-8, -1, 0, 1, 7, 8])
def test_overdue_condition_is_the_rule_of_overdue(milestones, project_status, days):
    """Filter, annotation and is_overdue() pick the same milestones, each status on each side of a due date."""
    _set_project_status(milestones["planned, due today"].project, project_status)
    on = TODAY + dt.timedelta(days=days)
    open_statuses = {Milestone.Status.PLANNED, Milestone.Status.CHANGES_REQUESTED}
    expected = (
        {name for name, m in milestones.items() if m.due_on < on and m.status in open_statuses}
        if project_status == Project.Status.ACTIVE
        else set()
    )
    condition = Milestone.objects.overdue_condition(on)
    assert _names(Milestone.objects.overdue(on), milestones) == expected
    assert _names(Milestone.objects.filter(condition), milestones) == expected
    flagged = Milestone.objects.annotate(flag=ExpressionWrapper(condition, output_field=BooleanField()))
    assert _names(flagged.filter(flag=True), milestones) == expected
    assert _names(flagged.filter(flag=False), milestones) == set(milestones) - expected
    assert {name for name, m in milestones.items() if Milestone.objects.get(pk=m.pk).is_overdue(on)} == expected


def test_overdue_condition_is_for_today_by_default(milestones):
    with _frozen_at(TODAY, hour=23):
        assert _names(Milestone.objects.filter(Milestone.objects.overdue_condition()), milestones) == {
            "planned, due yesterday",
            "changes requested, due last week",
        }
    with _frozen_at(TODAY + dt.timedelta(days=1), hour=0):
        assert "planned, due today" in _names(
            Milestone.objects.filter(Milestone.objects.overdue_condition()), milestones
        )


@pytest.mark.parametrize("status", [Project.Status.DRAFT, Project.Status.ABANDONED])
def test_milestones_of_projects_not_running_are_never_overdue_or_due(milestones, status):
    project = milestones["planned, due yesterday"].project
    Project.objects.filter(pk=project.pk).update(status=status, abandoned_at=timezone.now(), abandon_reason="Moved on")
    with _frozen_at(TODAY):
        assert not Milestone.objects.overdue().exists()
        assert not Milestone.objects.due_within(7).exists()
        assert not Milestone.objects.get(pk=milestones["planned, due yesterday"].pk).is_overdue()


def test_due_within_counts_today_up_to_and_including_the_last_day(milestones):
    with _frozen_at(TODAY):
        due = _names(Milestone.objects.due_within(7), milestones)
    assert due == {"planned, due today", "planned, due in 7 days", "changes requested, due in 3 days"}


def test_due_within_from_a_given_date(milestones):
    due = _names(Milestone.objects.due_within(0, on=TODAY + dt.timedelta(days=8)), milestones)
    assert due == {"planned, due in 8 days"}


# --- Placements ---------------------------------------------------------------------------------


def test_current_placements_include_their_first_and_last_days():
    def placement(start: int, end: int) -> Placement:
        return PlacementFactory(starts_on=TODAY + dt.timedelta(days=start), ends_on=TODAY + dt.timedelta(days=end))

    running = placement(-30, 30)
    starts_today = placement(0, 120)
    ends_today = placement(-120, 0)
    ended_yesterday = placement(-120, -1)
    starts_tomorrow = placement(1, 120)
    with _frozen_at(TODAY):
        current = set(Placement.objects.current())
    assert current == {running, starts_today, ends_today}
    assert set(Placement.objects.current(on=TODAY - dt.timedelta(days=1))) == {running, ends_today, ended_yesterday}
    assert starts_tomorrow in Placement.objects.current(on=TODAY + dt.timedelta(days=1))


def test_current_placement_of_a_doctor_is_the_latest_starting_one():
    doctor = UserFactory()
    PlacementFactory(doctor=doctor, starts_on=TODAY - dt.timedelta(days=100), ends_on=TODAY + dt.timedelta(days=5))
    newer = PlacementFactory(
        doctor=doctor, starts_on=TODAY - dt.timedelta(days=2), ends_on=TODAY + dt.timedelta(days=90)
    )
    with _frozen_at(TODAY):
        assert current_placement(doctor) == newer
        assert current_placement(UserFactory()) is None
    assert current_placement(doctor, on=TODAY + dt.timedelta(days=200)) is None
