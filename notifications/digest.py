"""The learning digest: what each person's organisation learned, and what waits for them.

For a batch of users, a fixed handful of queries loads everything (their departments and
specialties, projects completed there, projects looking for team members, their own milestones
due and overdue, reviews waiting for them as supervisor or QI lead); then each digest is
rendered from ``emails/digest-*``. A user with nothing to read gets no digest. The key names
the period (``weekly:2026-W48``, ``monthly:2026-12``), so a digest goes once per period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from notifications.models import DigestFrequency, Kind
from notifications.outbox import Message
from qi.models import Milestone, Placement, Project, ProjectMembership, Role, User

DUE_HORIZON_DAYS = 14
SECTION_LIMIT = 10  # items per section; the rest are counted
OPEN = [Milestone.Status.PLANNED, Milestone.Status.CHANGES_REQUESTED]


def due_frequencies(on: dt.date) -> list[str]:
    """Which digests go out on this date: weekly ones on the configured weekday, monthly on the 1st."""
    due = []
    if on.weekday() == settings.NOTIFICATIONS_DIGEST_WEEKDAY:
        due.append(DigestFrequency.WEEKLY)
    if on.day == 1:
        due.append(DigestFrequency.MONTHLY)
    return due


def recipients(on: dt.date) -> QuerySet[User]:
    """Active users whose digest is due on this date (no saved preference means weekly)."""
    frequencies = due_frequencies(on)
    if not frequencies:
        return User.objects.none()
    wanted = Q(notification_preference__digest__in=frequencies)
    if DigestFrequency.WEEKLY in frequencies:
        wanted |= Q(notification_preference__isnull=True)
    return User.objects.filter(wanted, is_active=True, organisation__isnull=False).exclude(email="").order_by("pk")


def period(frequency: str, on: dt.date) -> tuple[str, dt.date]:
    """The period's key and first day covered."""
    if frequency == DigestFrequency.MONTHLY:
        start = (on.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        return f"monthly:{start:%Y-%m}", start
    year, week, _ = on.isocalendar()
    return f"weekly:{year}-W{week:02d}", on - dt.timedelta(days=7)


@dataclass
class Reader:
    """One recipient and everything their digest says."""

    pk: int
    full_name: str
    organisation_id: int
    frequency: str
    departments: set[int] = field(default_factory=set)
    specialties: set[str] = field(default_factory=set)
    organisation_wide: bool = False
    completed: list[dict] = field(default_factory=list)
    seeking: list[dict] = field(default_factory=list)
    due: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)

    def has_news(self) -> bool:
        return any((self.completed, self.seeking, self.due, self.overdue, self.reviews))


def _load_readers(user_ids: Sequence[int], frequency_override: str | None) -> dict[int, Reader]:
    readers = {
        pk: Reader(
            pk=pk,
            full_name=name,
            organisation_id=org,
            frequency=frequency_override or (frequency if frequency != DigestFrequency.OFF else None) or "weekly",
        )
        for pk, name, org, frequency in User.objects.filter(pk__in=user_ids, organisation__isnull=False).values_list(
            "pk", "full_name", "organisation_id", "notification_preference__digest"
        )
    }
    return readers


def _place_readers(readers: dict[int, Reader], on: dt.date) -> None:
    """Each reader's departments and specialties: current placement, QI lead roles, supervised projects."""
    for doctor_id, department_id, specialty in (
        Placement.objects.current(on)
        .filter(doctor_id__in=readers)
        .values_list("doctor_id", "department_id", "department__specialty")
    ):
        readers[doctor_id].departments.add(department_id)
        readers[doctor_id].specialties.add(specialty)
    for user_id, department_id, specialty in Role.objects.filter(user_id__in=readers).values_list(
        "user_id", "department_id", "department__specialty"
    ):
        if department_id is None:
            readers[user_id].organisation_wide = True
        else:
            readers[user_id].departments.add(department_id)
            readers[user_id].specialties.add(specialty)
    for supervisor_id, department_id, specialty in (
        Project.objects.filter(supervisor_id__in=readers, status=Project.Status.ACTIVE)
        .values_list("supervisor_id", "department_id", "department__specialty")
        .distinct()
    ):
        readers[supervisor_id].departments.add(department_id)
        readers[supervisor_id].specialties.add(specialty)
    for reader in readers.values():
        reader.specialties.discard("")


def _add_projects(readers: dict[int, Reader], on: dt.date) -> None:
    organisations = {r.organisation_id for r in readers.values()}
    since = {reader.pk: period(reader.frequency, on)[1] for reader in readers.values()}
    fields = ("pk", "title", "aim", "department_id", "department__name", "department__specialty")
    completed = list(
        Project.objects.filter(
            status=Project.Status.COMPLETED,
            completed_at__date__gte=min(since.values()),
            department__organisation_id__in=organisations,
        )
        .order_by("-completed_at", "-pk")
        .values(*fields, "department__organisation_id", "outcome_summary", "lessons_learned", "completed_at")
    )
    seeking = list(
        Project.objects.filter(
            status__in=[Project.Status.DRAFT, Project.Status.ACTIVE],
            seeking_team_members=True,
            department__organisation_id__in=organisations,
        )
        .order_by("-created_at", "-pk")
        .values(*fields, "department__organisation_id")
    )
    members = defaultdict(set)
    for project_id, user_id in (
        ProjectMembership.objects.current()
        .filter(project_id__in=[p["pk"] for p in seeking], user_id__in=readers)
        .values_list("project_id", "user_id")
    ):
        members[project_id].add(user_id)
    completed_index, seeking_index = _ProjectIndex(completed), _ProjectIndex(seeking)
    for reader in readers.values():
        reader.completed = [
            project
            for project in completed_index.relevant_to(reader)
            if project["completed_at"].date() >= since[reader.pk]
        ]
        reader.seeking = [p for p in seeking_index.relevant_to(reader) if reader.pk not in members[p["pk"]]]


class _ProjectIndex:
    """Projects indexed by organisation, department and specialty, so a batch does not compare everyone with all."""

    def __init__(self, projects: list[dict]) -> None:
        self.projects = projects
        self.by_organisation: dict[int, list[int]] = defaultdict(list)
        self.by_department: dict[int, list[int]] = defaultdict(list)
        self.by_specialty: dict[tuple[int, str], list[int]] = defaultdict(list)
        for position, project in enumerate(projects):
            organisation = project["department__organisation_id"]
            self.by_organisation[organisation].append(position)
            self.by_department[project["department_id"]].append(position)
            self.by_specialty[organisation, project["department__specialty"]].append(position)

    def relevant_to(self, reader: Reader) -> list[dict]:
        """The reader's organisation's projects in their departments or specialties, in the query's order."""
        if reader.organisation_wide:
            positions = set(self.by_organisation.get(reader.organisation_id, ()))
        else:
            positions = set()
            for department_id in reader.departments:
                positions.update(self.by_department.get(department_id, ()))
            for specialty in reader.specialties:
                positions.update(self.by_specialty.get((reader.organisation_id, specialty), ()))
        return [
            self.projects[i]
            for i in sorted(positions)
            if self.projects[i]["department__organisation_id"] == reader.organisation_id
        ]


def _add_milestones(readers: dict[int, Reader], on: dt.date) -> None:
    rows = (
        Milestone.objects.filter(
            status__in=OPEN,
            project__status=Project.Status.ACTIVE,
            due_on__lte=on + dt.timedelta(days=DUE_HORIZON_DAYS),
            project__memberships__user_id__in=readers,
            project__memberships__left_at__isnull=True,
        )
        .order_by("due_on")
        .values("pk", "title", "due_on", "project__title", "project__memberships__user_id")
    )
    for row in rows:
        reader = readers[row["project__memberships__user_id"]]
        (reader.overdue if row["due_on"] < on else reader.due).append(row)


def _add_reviews(readers: dict[int, Reader]) -> None:
    fields = ("pk", "title", "submitted_at", "project__title", "project_id")
    waiting = Milestone.objects.awaiting_review().order_by("submitted_at")
    seen: dict[int, set[int]] = defaultdict(set)
    for row in waiting.filter(project__supervisor_id__in=readers).values(*fields, "project__supervisor_id"):
        readers[row["project__supervisor_id"]].reviews.append(row)
        seen[row["project__supervisor_id"]].add(row["pk"])
    roles = list(
        Role.objects.filter(user_id__in=readers, kind=Role.Kind.QI_LEAD).values_list(
            "user_id", "department_id", "organisation_id"
        )
    )
    if not roles:
        return
    scope = Q()
    for _, department_id, organisation_id in roles:
        scope |= (
            Q(project__department_id=department_id)
            if department_id
            else Q(project__department__organisation_id=organisation_id)
        )
    lead_rows = list(
        waiting.filter(scope).values(*fields, "project__department_id", "project__department__organisation_id")
    )
    on_team = set(
        ProjectMembership.objects.current()
        .filter(project_id__in={row["project_id"] for row in lead_rows}, user_id__in={r[0] for r in roles})
        .values_list("project_id", "user_id")
    )
    for user_id, department_id, organisation_id in roles:
        for row in lead_rows:
            in_scope = (
                row["project__department_id"] == department_id
                if department_id
                else row["project__department__organisation_id"] == organisation_id
            )
            if in_scope and row["pk"] not in seen[user_id] and (row["project_id"], user_id) not in on_team:
                readers[user_id].reviews.append(row)
                seen[user_id].add(row["pk"])


def _section(items: list[dict]) -> dict:
    return {"items": items[:SECTION_LIMIT], "more": max(len(items) - SECTION_LIMIT, 0), "count": len(items)}


SUMMARY_PARTS = (
    ("completed", "completed project", "completed projects"),
    ("seeking", "project looking for team members", "projects looking for team members"),
    ("due", "milestone due soon", "milestones due soon"),
    ("overdue", "overdue milestone", "overdue milestones"),
    ("reviews", "review waiting for you", "reviews waiting for you"),
)


def _summary(reader: Reader) -> str:
    counts = ((len(getattr(reader, name)), one, many) for name, one, many in SUMMARY_PARTS)
    return ", ".join(f"{count} {one if count == 1 else many}" for count, one, many in counts if count)


def build(user_ids: Sequence[int], on: dt.date, *, frequency: str | None = None) -> list[Message]:
    """The digests due on this date for these users, in a fixed number of queries.

    Each reader's own frequency sets the period covered, unless ``frequency`` overrides it
    (``notify_now digest --force`` builds a weekly digest for everyone, any day).
    """
    readers = _load_readers(user_ids, frequency)
    if not readers:
        return []
    _place_readers(readers, on)
    _add_projects(readers, on)
    _add_milestones(readers, on)
    _add_reviews(readers)
    messages = []
    for reader in readers.values():
        key, since = period(reader.frequency, on)
        if not reader.has_news():
            continue
        label = "monthly" if reader.frequency == DigestFrequency.MONTHLY else "weekly"
        summary = _summary(reader)
        messages.append(
            Message(
                recipient_id=reader.pk,
                kind=Kind.DIGEST,
                key=key,
                title=f"Your {label} QI digest: {summary}",
                body=f"What your organisation learned since {since:%d %B}, and what waits for you: {summary}.",
                template="digest",
                context={
                    "label": label,
                    "since": since,
                    "completed": _section(reader.completed),
                    "seeking": _section(reader.seeking),
                    "due": _section(reader.due),
                    "overdue": _section(reader.overdue),
                    "reviews": _section(reader.reviews),
                    "summary": summary,
                },
            )
        )
    return messages
