"""The daily reminder scan: what is due, overdue, waiting for review, or about to be orphaned.

Each rule finds its work in one or two set-based queries over a window of dates (a missed day
is caught up the next day) and returns ``Message``s whose keys name the milestone, its due date
or submission, and the period, so running the scan twice, or on two workers, posts each
reminder once. Rules:

- due soon: to the lead and team, on the days before the due date each chose (7 and 1 by default);
- overdue: to the lead and team on the first day, then every 7 days;
- 14 days overdue: once, to the supervisor;
- review waiting more than 3 days: once, to the supervisor; after 10 days once to the
  department's QI leads (or the organisation's when the department has none);
- rotation handover: the lead of an active project whose placement ends within 21 days and who
  has not handed over (and does not stay in the department): once per placement, to the lead
  and the supervisor.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone

from notifications.models import DEFAULT_FIRST_REMINDER_DAYS, DEFAULT_SECOND_REMINDER_DAYS, REMINDER_DAY_CHOICES, Kind
from notifications.outbox import Message
from qi.models import Milestone, Placement, Project, ProjectMembership, Role

CATCH_UP_DAYS = 1  # a scan also sends what yesterday's (missed) scan would have sent
LONGEST_REMINDER_DAYS = max(days for days, _ in REMINDER_DAY_CHOICES)
OVERDUE_REPEAT_DAYS = 7
OVERDUE_WEEKS_REMINDED = 104  # after two years of weekly reminders, stop
SUPERVISOR_OVERDUE_DAYS = 14
REVIEW_WAITING_DAYS = 3
REVIEW_ESCALATION_DAYS = 10
HANDOVER_NOTICE_DAYS = 21
OPEN = [Milestone.Status.PLANNED, Milestone.Status.CHANGES_REQUESTED]


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def due_soon(today: dt.date) -> list[Message]:
    """Milestones due in the number of days each team member chose."""
    rows = (
        Milestone.objects.filter(
            status__in=OPEN,
            project__status=Project.Status.ACTIVE,
            due_on__gte=today,
            due_on__lte=today + dt.timedelta(days=LONGEST_REMINDER_DAYS + CATCH_UP_DAYS),
            project__memberships__left_at__isnull=True,
        )
        .values_list(
            "pk",
            "title",
            "due_on",
            "project_id",
            "project__title",
            "project__memberships__user_id",
            "project__memberships__user__notification_preference__pk",
            "project__memberships__user__notification_preference__first_reminder_days",
            "project__memberships__user__notification_preference__second_reminder_days",
        )
        .order_by()
    )
    messages = []
    for pk, title, due_on, project_id, project_title, user_id, pref, first, second in rows.iterator(chunk_size=5000):
        chosen = {first, second} if pref else {DEFAULT_FIRST_REMINDER_DAYS, DEFAULT_SECOND_REMINDER_DAYS}
        chosen.discard(None)
        days = (due_on - today).days
        choice = days if days in chosen else (days + CATCH_UP_DAYS if days + CATCH_UP_DAYS in chosen else None)
        if choice is None:
            continue
        when = "today" if days == 0 else f"in {_days(days)} ({due_on:%a %d %b})"
        messages.append(
            Message(
                recipient_id=user_id,
                kind=Kind.MILESTONE_DUE,
                key=f"milestone:{pk}:due:{due_on}:{choice}",
                title=f"“{title}” is due {when}",
                body=f"{project_title}: submit this milestone with its evidence by {due_on:%d %B %Y}.",
                project_id=project_id,
            )
        )
    return messages


def overdue(today: dt.date) -> list[Message]:
    """Overdue milestones: to the team on day 1 and weekly after; to the supervisor once at 14 days."""
    reminder_days = {
        1 + OVERDUE_REPEAT_DAYS * week + late
        for week in range(OVERDUE_WEEKS_REMINDED)
        for late in range(CATCH_UP_DAYS + 1)
    }
    escalation_days = {SUPERVISOR_OVERDUE_DAYS + late for late in range(CATCH_UP_DAYS + 1)}
    dates = [today - dt.timedelta(days=n) for n in sorted(reminder_days | escalation_days)]
    milestones = list(
        Milestone.objects.filter(status__in=OPEN, project__status=Project.Status.ACTIVE, due_on__in=dates)
        .values_list("pk", "title", "due_on", "project_id", "project__title", "project__supervisor_id")
        .order_by()
    )
    team = defaultdict(list)
    for project_id, user_id in (
        ProjectMembership.objects.current()
        .filter(project_id__in={m[3] for m in milestones})
        .values_list("project_id", "user_id")
    ):
        team[project_id].append(user_id)
    messages = []
    for pk, title, due_on, project_id, project_title, supervisor_id in milestones:
        late = (today - due_on).days
        if late in reminder_days:
            week = (late - 1) // OVERDUE_REPEAT_DAYS
            for user_id in team[project_id]:
                messages.append(
                    Message(
                        recipient_id=user_id,
                        kind=Kind.MILESTONE_OVERDUE,
                        key=f"milestone:{pk}:overdue:{due_on}:week-{week}",
                        title=f"“{title}” is overdue",
                        body=(
                            f"{project_title}: this milestone was due on {due_on:%d %B %Y}. Submit it, or agree a "
                            "new date with your supervisor."
                        ),
                        project_id=project_id,
                    )
                )
        if late in escalation_days and supervisor_id:
            messages.append(
                Message(
                    recipient_id=supervisor_id,
                    kind=Kind.MILESTONE_OVERDUE_ESCALATION,
                    key=f"milestone:{pk}:overdue-escalation:{due_on}",
                    title=f"“{title}” is {SUPERVISOR_OVERDUE_DAYS} days overdue",
                    body=(
                        f"{project_title}: a milestone of a project you supervise was due on {due_on:%d %B %Y} "
                        "and has not been submitted. The team may need your help."
                    ),
                    project_id=project_id,
                )
            )
    return messages


def reviews_waiting(now: dt.datetime) -> list[Message]:
    """Submissions waiting 3 days (to the supervisor) and 10 days (to the QI leads)."""

    def window(days: int) -> Q:
        return Q(submitted_at__lte=now - dt.timedelta(days=days)) & Q(
            submitted_at__gt=now - dt.timedelta(days=days + 1 + CATCH_UP_DAYS)
        )

    rows = list(
        Milestone.objects.awaiting_review()
        .filter(window(REVIEW_WAITING_DAYS) | window(REVIEW_ESCALATION_DAYS))
        .values_list(
            "pk",
            "title",
            "submitted_at",
            "project_id",
            "project__title",
            "project__supervisor_id",
            "project__department_id",
            "project__department__organisation_id",
        )
        .order_by()
    )
    escalating = [row for row in rows if row[2] <= now - dt.timedelta(days=REVIEW_ESCALATION_DAYS)]
    department_leads: dict[int, list[int]] = defaultdict(list)
    organisation_leads: dict[int, list[int]] = defaultdict(list)
    team: dict[int, set[int]] = defaultdict(set)
    if escalating:
        roles = Role.objects.filter(kind=Role.Kind.QI_LEAD).filter(
            Q(department_id__in={row[6] for row in escalating})
            | Q(department__isnull=True, organisation_id__in={row[7] for row in escalating})
        )
        for user_id, department_id, organisation_id in roles.values_list("user_id", "department_id", "organisation_id"):
            if department_id:
                department_leads[department_id].append(user_id)
            else:
                organisation_leads[organisation_id].append(user_id)
        for project_id, user_id in (
            ProjectMembership.objects.current()
            .filter(project_id__in={row[3] for row in escalating})
            .values_list("project_id", "user_id")
        ):
            team[project_id].add(user_id)
    messages = []
    for pk, title, submitted_at, project_id, project_title, supervisor_id, department_id, organisation_id in rows:
        stamp = f"{submitted_at:%Y%m%d%H%M%S}"
        waited = (now - submitted_at).days
        if waited < REVIEW_ESCALATION_DAYS:
            if supervisor_id:
                messages.append(
                    Message(
                        recipient_id=supervisor_id,
                        kind=Kind.REVIEW_WAITING,
                        key=f"milestone:{pk}:review-waiting:{stamp}",
                        title=f"“{title}” has waited {_days(waited)} for your review",
                        body=f"{project_title}: the team submitted this milestone on {submitted_at:%d %B %Y}.",
                        project_id=project_id,
                    )
                )
            continue
        leads = department_leads.get(department_id) or organisation_leads.get(organisation_id, [])
        for lead_id in leads:
            if lead_id in team[project_id] or lead_id == supervisor_id:
                continue
            messages.append(
                Message(
                    recipient_id=lead_id,
                    kind=Kind.REVIEW_ESCALATION,
                    key=f"milestone:{pk}:review-escalation:{stamp}",
                    title=f"“{title}” has waited {_days(waited)} for review",
                    body=(
                        f"{project_title}: submitted on {submitted_at:%d %B %Y} and not yet reviewed by its "
                        "supervisor. As QI lead you may review it, or follow it up."
                    ),
                    project_id=project_id,
                )
            )
    return messages


def handovers_due(today: dt.date) -> list[Message]:
    """Leads of active projects whose placement ends within 21 days and who have not handed over."""
    horizon = today + dt.timedelta(days=HANDOVER_NOTICE_DAYS)
    rows = list(
        ProjectMembership.objects.current()
        .filter(
            role=ProjectMembership.Role.LEAD,
            project__status=Project.Status.ACTIVE,
            user__placements__ends_on__gte=today,
            user__placements__ends_on__lte=horizon,
            user__placements__starts_on__lte=today,
        )
        .values_list(
            "user_id",
            "user__full_name",
            "project_id",
            "project__title",
            "project__supervisor_id",
            "project__department_id",
            "user__placements__pk",
            "user__placements__ends_on",
        )
        .order_by()
    )
    # A doctor whose next placement is in the same department stays with the project.
    staying: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for doctor_id, department_id, starts_on in (
        Placement.objects.filter(doctor_id__in={row[0] for row in rows}, starts_on__gt=today)
        .values_list("doctor_id", "department_id", "starts_on")
        .order_by()
    ):
        staying[doctor_id, department_id].append(starts_on)
    messages = []
    for user_id, name, project_id, title, supervisor_id, department_id, placement_id, ends_on in rows:
        if any(starts <= ends_on + dt.timedelta(days=7) for starts in staying[user_id, department_id]):
            continue
        for recipient_id in (user_id, supervisor_id):
            if recipient_id is None:
                continue
            is_lead = recipient_id == user_id
            messages.append(
                Message(
                    recipient_id=recipient_id,
                    kind=Kind.HANDOVER_DUE,
                    key=f"project:{project_id}:handover:placement-{placement_id}",
                    title=(
                        f"Hand over “{title}” before you rotate on {ends_on:%d %B}"
                        if is_lead
                        else f"{name} rotates on {ends_on:%d %B}: “{title}” needs a new lead"
                    ),
                    body=(
                        "Write the handover notes and choose a successor so the project is not lost when the "
                        "placement ends."
                    ),
                    project_id=project_id,
                )
            )
    return messages


def reminder_messages(today: dt.date | None = None, now: dt.datetime | None = None) -> Iterator[list[Message]]:
    """Every rule's messages, one list per rule."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    yield due_soon(today)
    yield overdue(today)
    yield reviews_waiting(now)
    yield handovers_due(today)
