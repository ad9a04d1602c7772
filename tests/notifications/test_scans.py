"""The reminder scan: who is reminded of what, and when (time frozen), exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications import scans, tasks
from notifications.models import Kind, Notification, Preference
from qi import services
from qi.models import Milestone
from tests.factories import PlacementFactory

MONDAY = dt.date(2026, 11, 2)
LONDON_9AM = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(0)))


@pytest.fixture
def frozen():
    with time_machine.travel(LONDON_9AM, tick=False):
        yield MONDAY


@pytest.fixture
def milestone(trust, frozen, active_project) -> Milestone:
    """One open milestone of alice's active project (bob on the team, sam supervising); others approved away."""
    first, *rest = list(active_project.milestones.order_by("due_on"))
    Milestone.objects.filter(pk__in=[m.pk for m in rest]).update(due_on=MONDAY + dt.timedelta(days=60))
    return first


def set_due(milestone: Milestone, days_from_today: int) -> None:
    Milestone.objects.filter(pk=milestone.pk).update(due_on=MONDAY + dt.timedelta(days=days_from_today))


def scan(on: dt.date = MONDAY) -> list[tuple[str, str]]:
    tasks.scan_reminders(on.isoformat())
    return sorted(Notification.objects.values_list("recipient__full_name", "kind"))


@pytest.mark.parametrize("days", [7, 1])
def test_the_team_is_reminded_7_and_1_days_before_by_default(trust, milestone, days):
    set_due(milestone, days)
    assert scan() == [("Alice", Kind.MILESTONE_DUE), ("Bob", Kind.MILESTONE_DUE)]


@pytest.mark.parametrize("days", [2, 3, 4, 5, 8, 14])
def test_no_reminder_on_other_days(trust, milestone, days):
    set_due(milestone, days)
    assert scan() == []


def test_each_person_chooses_their_reminder_days(trust, milestone):
    Preference.objects.create(user=trust.bob, first_reminder_days=14, second_reminder_days=None)
    set_due(milestone, 14)
    assert scan() == [("Bob", Kind.MILESTONE_DUE)]
    Notification.objects.all().delete()
    set_due(milestone, 7)
    assert scan() == [("Alice", Kind.MILESTONE_DUE)]


def test_a_missed_day_is_caught_up_but_not_repeated(trust, milestone):
    set_due(milestone, 6)  # yesterday's scan (7 days before) did not run
    assert scan() == [("Alice", Kind.MILESTONE_DUE), ("Bob", Kind.MILESTONE_DUE)]
    assert scan(MONDAY) == [("Alice", Kind.MILESTONE_DUE), ("Bob", Kind.MILESTONE_DUE)]


def test_the_day_before_reminder_is_not_repeated_on_the_day(trust, milestone):
    set_due(milestone, 1)
    scan(MONDAY)
    assert scan(MONDAY + dt.timedelta(days=1)) == [("Alice", Kind.MILESTONE_DUE), ("Bob", Kind.MILESTONE_DUE)]


def test_a_submitted_or_approved_milestone_is_not_reminded(trust, milestone):
    set_due(milestone, 7)
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
    assert scan() == []


@pytest.mark.parametrize(
    ("days_late", "reminded"), [(1, True), (2, True), (3, False), (7, False), (8, True), (15, True)]
)
def test_overdue_reminders_go_on_day_one_then_weekly(trust, milestone, days_late, reminded):
    set_due(milestone, -days_late)
    expected = [("Alice", Kind.MILESTONE_OVERDUE), ("Bob", Kind.MILESTONE_OVERDUE)] if reminded else []
    assert [row for row in scan() if row[1] == Kind.MILESTONE_OVERDUE] == expected


def test_the_supervisor_hears_once_a_milestone_is_14_days_overdue(trust, milestone):
    set_due(milestone, -14)
    assert ("Sam", Kind.MILESTONE_OVERDUE_ESCALATION) in scan()
    assert Notification.objects.filter(kind=Kind.MILESTONE_OVERDUE_ESCALATION).count() == 1
    set_due(milestone, -21)  # a week later
    assert Notification.objects.filter(recipient=trust.sam).count() == 1
    scan()
    assert Notification.objects.filter(kind=Kind.MILESTONE_OVERDUE_ESCALATION).count() == 1


def test_milestones_of_abandoned_projects_are_never_reminded(trust, milestone, active_project):
    set_due(milestone, -1)
    services.project_abandon(actor=trust.alice, project=active_project, reason="Moved on")
    assert scan() == []


def submitted_days_ago(trust, milestone, days: float) -> None:
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Baseline")
    Milestone.objects.filter(pk=milestone.pk).update(submitted_at=timezone.now() - dt.timedelta(days=days))


@pytest.mark.parametrize(("days", "expected"), [(2.9, []), (3.1, [("Sam", Kind.REVIEW_WAITING)])])
def test_the_reviewer_hears_when_a_review_waits_more_than_3_days(trust, milestone, days, expected):
    submitted_days_ago(trust, milestone, days)
    assert scan() == expected


def test_the_department_qi_lead_hears_when_a_review_waits_10_days(trust, milestone):
    submitted_days_ago(trust, milestone, 10.2)
    assert scan() == [("Quinn", Kind.REVIEW_ESCALATION)]  # olga leads the organisation, quinn the department


def test_the_organisation_lead_hears_when_the_department_has_none(trust, milestone, active_project):
    from qi.models import Role

    Role.objects.filter(user=trust.quinn).delete()
    submitted_days_ago(trust, milestone, 10.2)
    assert scan() == [("Olga", Kind.REVIEW_ESCALATION)]


def test_rotation_handover_prompts_the_lead_and_supervisor(trust, milestone):
    from qi.models import Placement

    Placement.objects.filter(doctor=trust.alice).update(ends_on=MONDAY + dt.timedelta(days=20))
    assert scan() == [("Alice", Kind.HANDOVER_DUE), ("Sam", Kind.HANDOVER_DUE)]
    assert scan() == [("Alice", Kind.HANDOVER_DUE), ("Sam", Kind.HANDOVER_DUE)]  # once per placement


def test_no_handover_prompt_when_the_lead_stays_in_the_department(trust, milestone, active_project):
    from qi.models import Placement

    placement = Placement.objects.get(doctor=trust.alice)
    Placement.objects.filter(pk=placement.pk).update(ends_on=MONDAY + dt.timedelta(days=20))
    PlacementFactory(
        doctor=trust.alice,
        department=trust.cardiology,
        starts_on=MONDAY + dt.timedelta(days=21),
        ends_on=MONDAY + dt.timedelta(days=140),
    )
    assert scan() == []


def test_no_handover_prompt_once_handed_over(trust, milestone, active_project):
    from qi.models import Placement

    Placement.objects.filter(doctor=trust.alice).update(ends_on=MONDAY + dt.timedelta(days=20))
    services.project_hand_over(actor=trust.alice, project=active_project, successor=trust.bob)
    Notification.objects.all().delete()
    assert scan() == []


def test_running_the_scan_twice_sends_nothing_twice(trust, milestone):
    set_due(milestone, -1)
    scan()
    scan()
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 0  # e-mails are sent after commit, by send_emails


def test_the_scan_runs_a_bounded_number_of_queries(trust, milestone, active_project, django_assert_max_num_queries):
    set_due(milestone, -1)
    with django_assert_max_num_queries(10):
        messages = [m for batch in scans.reminder_messages(MONDAY, timezone.now()) for m in batch]
    assert len(messages) == 2
    # Ten times the projects, the same number of queries.
    for n in range(10):
        project = services.project_create(
            actor=trust.alice, department=trust.cardiology, title=f"P{n}", problem="P", aim="A"
        )
        services.project_activate(actor=trust.alice, project=project)
        project.milestones.update(due_on=MONDAY - dt.timedelta(days=1))
    with django_assert_max_num_queries(10):
        messages = [m for batch in scans.reminder_messages(MONDAY, timezone.now()) for m in batch]
    assert len(messages) > 50
