"""Build the demo trust through ``qi.services``, so the audit trail is real. ``_Builder`` creates the
organisation, its people and placements, then plays each ``ProjectSpec`` forward (milestones submitted and
reviewed, hand-overs, PDSA cycles, weekly data) and only sets timestamps back afterwards. Every random choice
comes from one ``random.Random(RANDOM_SEED)``, so the order of the steps here is part of the result: reorder
them and a different (equally valid) trust is built.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from qi import services
from qi.demo.data import (
    ABANDON_REASONS,
    ABANDONED,
    ACTIVE,
    ADMIN_EMAIL,
    APPROVAL_COMMENTS,
    AUDIT,
    BASELINE_WEEKS,
    CHANGE_REQUESTS,
    COMPLETED,
    DEMO_PASSWORD,
    DOMAIN,
    DRAFT,
    EVALUATION,
    EVIDENCE,
    LESSONS,
    ORGANISATION_CODE,
    ORGANISATION_NAME,
    PROJECTS,
    QI,
    RANDOM_SEED,
    RE_AUDIT,
    SCENARIOS,
    ProjectSpec,
)
from qi.demo.people import (
    ALICE,
    DEPARTMENT_QI_LEAD,
    DEPARTMENTS,
    DOCTORS,
    ORGANISATION_QI_LEAD,
    DepartmentSpec,
    rotation_for,
)
from qi.demo.showcase import SHOWCASE, SHOWCASE_PROJECT, showcase_weeks
from qi.demo.themes import THEMES, TOPICS, MeasureSpec, Theme
from qi.models import (
    Department,
    Grade,
    Handover,
    Measure,
    Milestone,
    Organisation,
    PDSACycle,
    Placement,
    Project,
    ProjectMembership,
    Review,
    Role,
    Topic,
    User,
)


class DemoSeedError(Exception):
    """The demo trust cannot be built in this database (say, a demo e-mail address is taken)."""


def _email(first: str, suffix: str) -> str:
    return f"{first}.{suffix}@{DOMAIN}".lower().replace("'", "")


@dataclass
class _Work:
    """One project being built: who is on it and the clock of its events (kept in order)."""

    spec: ProjectSpec
    theme: Theme
    department: Department
    department_spec: DepartmentSpec
    lead: User
    supervisor: User
    placement: Placement  # the lead's placement when the project started
    starts_on: dt.date
    ends_on: dt.date
    project: Project | None = None
    successor: User | None = None  # who takes the project over at rotation, if it is handed over
    handed_over_on: dt.date | None = None
    members: list[User] = field(default_factory=list)
    clock: dt.datetime | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # measure name -> data rows
    cycles: list[PDSACycle] = field(default_factory=list)

    @property
    def current_lead(self) -> User:
        return self.lead_on(dt.date.max)

    def lead_on(self, day: dt.date) -> User:
        """Return who led the project on a day (the successor from the handover on)."""
        if self.successor is not None and self.handed_over_on is not None and day >= self.handed_over_on:
            return self.successor
        return self.lead


class _Builder:
    """Build the trust. Each step goes through qi.services; only timestamps are set back afterwards."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.now = timezone.now()
        self.rng = random.Random(RANDOM_SEED)
        self.password = make_password(DEMO_PASSWORD)  # hashed once: hashing 50 times would take seconds
        self.departments: dict[str, Department] = {}
        self.supervisors: dict[str, User] = {}
        self.doctors: dict[str, User] = {}  # by first name
        self.current: dict[int, Placement] = {}  # by doctor id
        self.previous: dict[int, Placement] = {}
        # Doctors who could lead a project, by (when, department key): "current" posts, "rotated" (their
        # previous post was there) and "past" (rotated, or in a long post that started months ago).
        self.pools: dict[tuple[str, str], list[User]] = defaultdict(list)
        self.turns: dict[tuple[str, str], int] = defaultdict(int)
        self.topics: dict[str, Topic] = {}
        self.quinn: User
        self.olga: User
        self.active_count = 0
        self.works: dict[str, _Work] = {}  # by project title

    # -- people --

    def build(self) -> Organisation:
        self._check_free()
        organisation = Organisation.objects.create(name=ORGANISATION_NAME, code=ORGANISATION_CODE)
        for spec in DEPARTMENTS:
            self.departments[spec.key] = Department.objects.create(
                organisation=organisation, name=spec.name, specialty=spec.specialty, division=spec.division
            )
        self.topics = {
            slug: Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0] for slug, name in TOPICS.items()
        }
        self._people(organisation)
        for index, spec in enumerate(PROJECTS):
            self._project(index, spec)
        self._chart_showcase()
        return organisation

    def _check_free(self) -> None:
        emails = [_email(first, grade) for first, _, grade in DOCTORS]
        emails += [_email(*spec.supervisor) for spec in DEPARTMENTS]
        emails += [_email(*DEPARTMENT_QI_LEAD[:2]), _email(*ORGANISATION_QI_LEAD)]
        taken = list(User.objects.filter(email__in=emails).values_list("email", flat=True))
        if taken:
            raise DemoSeedError(
                f"These demo e-mail addresses are already in use outside the demo trust: {', '.join(taken)}."
            )

    def _gmc_numbers(self, count: int) -> list[str]:
        """Return unique 7-digit GMC numbers that nobody in the database has yet."""
        taken = set(User.objects.exclude(gmc_number="").values_list("gmc_number", flat=True))
        numbers: list[str] = []
        while len(numbers) < count:
            number = str(self.rng.randint(3_000_000, 7_999_999))
            if number not in taken:
                taken.add(number)
                numbers.append(number)
        return numbers

    def _user(self, organisation: Organisation, first: str, last: str, grade: str, email: str, gmc: str) -> User:
        return User.objects.create(
            email=email,
            full_name=f"{first} {last}",
            grade=grade,
            gmc_number=gmc,
            organisation=organisation,
            password=self.password,
        )

    def _people(self, organisation: Organisation) -> None:
        gmc = iter(self._gmc_numbers(len(DOCTORS) + len(DEPARTMENTS) + 2))
        for spec in DEPARTMENTS:
            first, last = spec.supervisor
            self.supervisors[spec.key] = self._user(
                organisation, first, last, Grade.CONSULTANT, _email(first, last), next(gmc)
            )
        first, last, department = DEPARTMENT_QI_LEAD
        self.quinn = self._user(organisation, first, last, Grade.CONSULTANT, _email(first, last), next(gmc))
        Role.objects.create(user=self.quinn, organisation=organisation, department=self.departments[department])
        first, last = ORGANISATION_QI_LEAD
        self.olga = self._user(organisation, first, last, Grade.CONSULTANT, _email(first, last), next(gmc))
        Role.objects.create(user=self.olga, organisation=organisation, department=None)
        User.objects.get_or_create(
            email=ADMIN_EMAIL,
            defaults={
                "full_name": "Demo Administrator",
                "organisation": organisation,
                "is_staff": True,
                "is_superuser": True,
                "password": self.password,
            },
        )
        placements = []
        for index, (first, last, grade) in enumerate(DOCTORS):
            doctor = self._user(organisation, first, last, grade, _email(first, grade), next(gmc))
            self.doctors[first] = doctor
            placements += self._placements(index, doctor)
        for placement in Placement.objects.bulk_create(placements):
            is_current = placement.starts_on <= self.today <= placement.ends_on
            (self.current if is_current else self.previous)[placement.doctor_id] = placement
        self._pools()

    def _placements(self, index: int, doctor: User) -> list[Placement]:
        rotation = rotation_for(doctor.grade)
        here = DEPARTMENTS[index % len(DEPARTMENTS)]
        before = DEPARTMENTS[(index + 3) % len(DEPARTMENTS)]
        educational = self.supervisors[DEPARTMENTS[(index + 1) % len(DEPARTMENTS)].key]
        starts_on = self.today - dt.timedelta(days=rotation.started_days_ago)
        placements = [self._placement(doctor, here, starts_on, rotation.days, educational)]
        if rotation.has_previous:
            placements.append(
                self._placement(
                    doctor, before, starts_on - dt.timedelta(days=rotation.days), rotation.days, educational
                )
            )
        return placements

    def _placement(
        self, doctor: User, spec: DepartmentSpec, starts_on: dt.date, days: int, educational: User
    ) -> Placement:
        return Placement(
            doctor=doctor,
            department=self.departments[spec.key],
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=days - 1),
            educational_supervisor=educational,
            clinical_supervisor=self.supervisors[spec.key],
        )

    def _pools(self) -> None:
        """Group doctors by who can lead what: now (current post) and in the past (previous or long post)."""
        key_of = {department.pk: key for key, department in self.departments.items()}
        for first, doctor in self.doctors.items():
            if first == ALICE:
                continue  # Alice's projects are named in PROJECTS
            current = self.current[doctor.pk]
            self.pools["current", key_of[current.department_id]].append(doctor)
            previous = self.previous.get(doctor.pk)
            if previous is not None:
                self.pools["rotated", key_of[previous.department_id]].append(doctor)
                self.pools["past", key_of[previous.department_id]].append(doctor)
            elif current.starts_on <= self.today - dt.timedelta(days=240):
                self.pools["past", key_of[current.department_id]].append(doctor)

    def _take(self, pool: str, department: str, exclude: Sequence[User] = ()) -> User:
        """Take the next doctor, in turn, from a department's pool."""
        people = [person for person in self.pools[pool, department] if person not in exclude]
        turn = self.turns[pool, department]
        self.turns[pool, department] += 1
        return people[turn % len(people)]

    # -- timestamps --

    def _at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(moment, self.now)

    def _stamp(self, work: _Work, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """Return the time of the project's next event: on `day`, but never before its previous event."""
        moment = self._at(day, hour, minute)
        if work.clock is not None and moment <= work.clock:
            moment = min(work.clock + dt.timedelta(minutes=47), self.now)
        work.clock = moment
        return moment

    # -- one project --

    def _project(self, index: int, spec: ProjectSpec) -> None:
        work = self._plan(spec)
        self.works[spec.title] = work
        project = services.project_create(
            actor=work.lead,
            department=work.department,
            title=spec.title,
            problem=self._problem(work),
            aim=self._aim(work),
            category=spec.category,
            method=work.theme.method if spec.category == QI else _method(spec.category),
            supervisor=work.supervisor,
            topics=[self.topics[slug] for slug in work.theme.topics],
            starts_on=work.starts_on,
            ends_on=work.ends_on,
        )
        work.project = project
        created_at = self._stamp(work, work.starts_on, 9, 10)
        for member in self._members(work):
            services.project_member_add(actor=work.lead, project=project, user=member)
            work.members.append(member)
        if spec.status == DRAFT:
            self._draft(work)
        else:
            self._run(index, work)
        Project.objects.filter(pk=project.pk).update(created_at=created_at, updated_at=work.clock)
        ProjectMembership.objects.filter(project=project, user=work.lead).update(joined_at=created_at)
        ProjectMembership.objects.filter(project=project, user__in=work.members).update(
            joined_at=self._at(work.starts_on + dt.timedelta(days=2), 12)
        )

    def _plan(self, spec: ProjectSpec) -> _Work:
        """Choose the lead and the dates: past projects fall in a past post, open ones in the current post."""
        past = spec.status in (COMPLETED, ABANDONED) or spec.handed_over
        if spec.lead:
            lead = self.doctors[spec.lead]
        else:
            lead = self._take("rotated" if spec.handed_over else "past" if past else "current", spec.department)
        placement = self.previous.get(lead.pk, self.current[lead.pk]) if past else self.current[lead.pk]
        offset = dt.timedelta(days=self.rng.randint(7, 21))
        if spec.status == DRAFT:
            starts_on = self.today - dt.timedelta(days=self.rng.randint(0, 10))
            ends_on = min(placement.ends_on, starts_on + dt.timedelta(days=150))
        elif spec.status == ACTIVE and not spec.handed_over:
            starts_on = max(placement.starts_on + offset, self.today - dt.timedelta(days=150))
            ends_on = max(
                min(placement.ends_on, starts_on + dt.timedelta(days=180)), self.today + dt.timedelta(days=21)
            )
        else:
            starts_on = max(placement.starts_on + offset, self.today - dt.timedelta(days=280))
            ends_on = min(placement.ends_on - dt.timedelta(days=7), starts_on + dt.timedelta(days=150))
            ends_on = min(ends_on, self.today - dt.timedelta(days=21))
        work = _Work(
            spec=spec,
            theme=THEMES[spec.theme],
            department=self.departments[spec.department],
            department_spec=next(d for d in DEPARTMENTS if d.key == spec.department),
            lead=lead,
            supervisor=self.supervisors[spec.department],
            placement=placement,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        if spec.handed_over:
            work.successor = self._take("current", spec.department, exclude=[lead])
            work.ends_on = min(self.current[work.successor.pk].ends_on, self.today + dt.timedelta(days=120))
        return work

    def _members(self, work: _Work) -> list[User]:
        pool = "current" if work.spec.status in (DRAFT, ACTIVE) and not work.spec.handed_over else "past"
        wanted = self.rng.randint(0, 1) if work.spec.status == DRAFT else self.rng.randint(1, 2)
        members: list[User] = []
        for _ in range(wanted):
            candidate = self._take(pool, work.spec.department, exclude=[work.lead])
            if candidate not in members and candidate != work.successor:
                members.append(candidate)
        return members

    def _problem(self, work: _Work) -> str:
        theme, ward = work.theme, work.department_spec.ward
        return {
            QI: theme.problem.format(ward=ward),
            AUDIT: f"Care of {theme.population} on {ward} has not been audited against {theme.standard} since the "
            "guidance was last updated.",
            RE_AUDIT: f"The last audit of {theme.population} on {ward} found only about "
            f"{round(theme.audited.before * 20) * 5}% compliance with {theme.standard}; the action plan has now been "
            "in place for a year.",
            EVALUATION: f"{theme.service[0].upper()}{theme.service[1:]} started last year, but nobody has looked at "
            "whether it reaches the patients it was set up for, or how quickly.",
        }[work.spec.category]

    def _aim(self, work: _Work) -> str:
        theme, ward, by = work.theme, work.department_spec.ward, f"{work.ends_on:%B %Y}"
        return {
            QI: theme.aim.format(ward=ward, by=by),
            AUDIT: f"Audit 50 consecutive {theme.population} on {ward} against {theme.standard}, and present the "
            f"results with an action plan by {by}.",
            RE_AUDIT: f"Re-audit 50 consecutive {theme.population} on {ward} against the same standards and close "
            f"the loop by {by}.",
            EVALUATION: f"Describe who uses {theme.service}, how quickly and with what result over eight weeks, and "
            f"report to the {work.department_spec.division} governance meeting by {by}.",
        }[work.spec.category]

    def _draft(self, work: _Work) -> None:
        """A draft has its plan and, for QI, its outcome measure defined; no data yet."""
        if work.spec.category == QI:
            self._measure(work, work.theme.outcome, Measure.Kind.OUTCOME)

    def _run(self, index: int, work: _Work) -> None:
        project = work.project
        assert project is not None
        services.project_activate(actor=work.lead, project=project)
        milestones = list(project.milestones.order_by("due_on", "pk"))
        if work.successor is not None:
            rotation_day = work.placement.ends_on + dt.timedelta(days=1)
            self._approve_all(work, [m for m in milestones if m.due_on < rotation_day])
            milestones = [m for m in milestones if m.due_on >= rotation_day]
            self._hand_over(index, work, rotation_day)
        stops_on = self._stops_on(work)
        self._record_data(work, stops_on)
        due = [m for m in milestones if m.due_on < stops_on]
        if work.spec.status == COMPLETED:
            self._approve_all(work, milestones)
            self._complete(index, work)
        elif work.spec.status == ABANDONED:
            self._approve_all(work, due)
            self._abandon(index, work, stops_on)
        else:
            scenario = work.spec.scenario or SCENARIOS[self.active_count % len(SCENARIOS)]
            self.active_count += 1
            self._play(work, due, scenario)
            if self.active_count % 2 == 1 or work.spec.scenario:
                self._due_soon([m for m in milestones if m.due_on >= self.today])

    def _stops_on(self, work: _Work) -> dt.date:
        """The day work on the project stops: its end, the day it is abandoned, or today."""
        if work.spec.status == COMPLETED:
            return work.ends_on
        if work.spec.status == ABANDONED:
            return min(work.starts_on + dt.timedelta(days=70), self.today - dt.timedelta(days=7))
        return self.today

    # -- milestones and reviews --

    def _reviewer(self, work: _Work) -> User:
        # On AMU the department's QI lead shares the reviewing with the supervisor.
        if work.spec.department == DEPARTMENT_QI_LEAD[2] and self.rng.random() < 0.35:
            return self.quinn
        return work.supervisor

    def _evidence(self, work: _Work, milestone: Milestone) -> str:
        team = ", ".join(person.full_name for person in [work.current_lead, *work.members])
        return EVIDENCE[milestone.kind].format(
            supervisor=work.supervisor.full_name,
            team=team,
            reference=f"CA-{work.starts_on:%Y}-{milestone.project_id:03d}",
            department=work.department.name,
            division=work.department_spec.division,
        )

    def _submit(self, work: _Work, milestone: Milestone, day: dt.date) -> None:
        services.milestone_submit(
            actor=work.current_lead, milestone=milestone, evidence=self._evidence(work, milestone)
        )
        Milestone.objects.filter(pk=milestone.pk).update(submitted_at=self._stamp(work, day, 17, 30))

    def _decide(self, work: _Work, milestone: Milestone, day: dt.date, *, approve: bool) -> None:
        reviewer = self._reviewer(work)
        if approve:
            comment = self.rng.choice(APPROVAL_COMMENTS)
            review = services.milestone_approve(actor=reviewer, milestone=milestone, comment=comment)
        else:
            comment = self.rng.choice(CHANGE_REQUESTS)
            review = services.milestone_request_changes(actor=reviewer, milestone=milestone, comment=comment)
        decided_at = self._stamp(work, day, 9, 15)
        Review.objects.filter(pk=review.pk).update(created_at=decided_at)
        Milestone.objects.filter(pk=milestone.pk).update(decided_at=decided_at)

    def _days_before(self, day: dt.date, low: int, high: int) -> dt.date:
        return min(day - dt.timedelta(days=self.rng.randint(low, high)), self.today - dt.timedelta(days=1))

    def _approve_all(self, work: _Work, milestones: Sequence[Milestone]) -> None:
        """Submit each milestone around its due date and have it approved a few days later."""
        for number, milestone in enumerate(milestones):
            submitted_on = max(self._days_before(milestone.due_on, 0, 4), work.starts_on)
            if number == 1 and self.rng.random() < 0.4:  # the second step (often the aim) may need a second go
                self._submit(work, milestone, submitted_on)
                self._decide(work, milestone, submitted_on + dt.timedelta(days=2), approve=False)
                submitted_on += dt.timedelta(days=5)
            self._submit(work, milestone, submitted_on)
            self._decide(work, milestone, submitted_on + dt.timedelta(days=self.rng.randint(1, 5)), approve=True)

    def _play(self, work: _Work, due: list[Milestone], scenario: str) -> None:
        """Bring an active project's past-due milestones to the state the scenario describes."""
        if not due:
            return
        held = {"on_track": 0, "behind": 2}.get(scenario, 1)
        self._approve_all(work, due[: len(due) - held])
        latest = due[-1]
        recently = self.today - dt.timedelta(days=self.rng.randint(1, 5))
        if scenario == "awaiting_review":
            self._submit(work, latest, recently)
        elif scenario == "changes_requested":
            self._submit(work, latest, recently - dt.timedelta(days=3))
            self._decide(work, latest, recently, approve=False)
        elif scenario == "resubmitted":
            self._submit(work, latest, recently - dt.timedelta(days=6))
            self._decide(work, latest, recently - dt.timedelta(days=4), approve=False)
            self._submit(work, latest, recently)
        elif scenario == "behind" and len(due) >= 2:
            self._submit(work, due[-2], recently)  # waits for review; the latest stays overdue

    def _due_soon(self, upcoming: list[Milestone]) -> None:
        """Bring the next planned milestone within a week, so reminders and the dashboard have work."""
        if upcoming and upcoming[0].due_on > self.today + dt.timedelta(days=7):
            due_on = self.today + dt.timedelta(days=self.rng.randint(1, 6))
            Milestone.objects.filter(pk=upcoming[0].pk).update(due_on=due_on)

    # -- transitions --

    def _hand_over(self, index: int, work: _Work, day: dt.date) -> None:
        project, successor = work.project, work.successor
        assert project is not None and successor is not None
        # The organisation's QI lead steps in for one of them: the lead had already left the trust.
        actor = self.olga if work.spec.department == "tando" else work.lead
        handover = services.project_hand_over(
            actor=actor,
            project=project,
            successor=successor,
            notes=f"{work.lead.full_name} rotated to a new post. Data collection continues weekly from the same "
            f"source; the run chart and the PDSA log are in the project folder. Next: "
            f"{_lower_first(work.theme.changes[index % 2])}.",
        )
        work.handed_over_on = day
        handed_at = self._stamp(work, day, 10)
        Handover.objects.filter(pk=handover.pk).update(created_at=handed_at)
        ProjectMembership.objects.filter(project=project, user=work.lead).update(
            joined_at=self._at(work.starts_on, 9, 10), left_at=handed_at
        )
        ProjectMembership.objects.filter(project=project, user=successor).update(joined_at=handed_at)

    def _complete(self, index: int, work: _Work) -> None:
        project = work.project
        assert project is not None
        if work.spec.category == QI:
            services.project_update(
                actor=work.current_lead,
                project=project,
                sustainability_notes="The ward manager owns the change; the process measure stays on the monthly "
                "ward dashboard and is re-checked by the next FY1 cohort.",
            )
        services.project_complete(
            actor=work.current_lead,
            project=project,
            outcome_summary=self._outcome(work),
            lessons_learned=" ".join(LESSONS[(index + k) % len(LESSONS)] for k in (0, 2)),
        )
        completed_at = self._stamp(work, work.ends_on, 16)
        Project.objects.filter(pk=project.pk).update(completed_at=completed_at)

    def _abandon(self, index: int, work: _Work, day: dt.date) -> None:
        project = work.project
        assert project is not None
        reason = ABANDON_REASONS[index % len(ABANDON_REASONS)]
        # When the lead has left the trust, the organisation's QI lead closes the project.
        actor = self.olga if reason == ABANDON_REASONS[0] else work.current_lead
        services.project_abandon(actor=actor, project=project, reason=reason)
        Project.objects.filter(pk=project.pk).update(abandoned_at=self._stamp(work, day, 15))

    # -- measures, PDSA cycles and data --

    def _measure(self, work: _Work, spec: MeasureSpec, kind: str) -> Measure:
        assert work.project is not None
        return services.measure_create(
            actor=work.current_lead,
            project=work.project,
            name=spec.name,
            operational_definition=spec.definition,
            better=spec.better,
            kind=kind,
            unit=spec.unit,
            target=Decimal(str(spec.target)) if spec.target is not None else None,
        )

    def _add(self, work: _Work, measure: Measure, rows: list[dict[str, Any]]) -> None:
        if rows:
            services.data_points_add(actor=work.current_lead, measure=measure, rows=rows)
        work.rows[measure.name] = rows

    def _chart_showcase(self) -> None:
        """Add the measures written to show every kind of chart signal (``qi.demo.showcase``)."""
        work = self.works[SHOWCASE_PROJECT]
        assert work.project is not None
        weeks = showcase_weeks(self.today)
        for spec in SHOWCASE:
            measure = services.measure_create(
                actor=work.current_lead,
                project=work.project,
                name=spec.name,
                operational_definition=spec.definition,
                better=spec.better,
                kind=spec.kind,
                unit=spec.unit,
                target=Decimal(str(spec.target)) if spec.target is not None else None,
                chart_kind=spec.chart_kind,
                baseline_points=spec.baseline_points,
                phase_starts=[weeks[12]] if spec.phase_after_baseline else [],
            )
            if spec.fractions:
                rows = [
                    {"date": w, "numerator": n, "denominator": d}
                    for w, (n, d) in zip(weeks, spec.fractions, strict=True)
                ]
            else:
                rows = [{"date": w, "value": Decimal(str(v))} for w, v in zip(weeks, spec.values, strict=True)]
            rows[12]["note"] = "Sepsis trolley and screening prompt introduced"
            services.data_points_add(actor=work.current_lead, measure=measure, rows=rows)

    def _record_data(self, work: _Work, stops_on: dt.date) -> None:
        category = work.spec.category
        if category == QI:
            self._qi_data(work, stops_on)
        elif category in (AUDIT, RE_AUDIT):
            self._audit_data(work, stops_on)
        else:
            self._evaluation_data(work, stops_on)

    def _weeks(self, first: dt.date, stops_on: dt.date) -> list[dt.date]:
        """Week-commencing Mondays from the week of `first`, for weeks that ended before `stops_on`."""
        monday = first - dt.timedelta(days=first.weekday())
        weeks = []
        while monday + dt.timedelta(days=6) < stops_on:
            weeks.append(monday)
            monday += dt.timedelta(weeks=1)
        return weeks

    def _series(
        self, spec: MeasureSpec, weeks: Sequence[dt.date], level: Callable[[dt.date], float]
    ) -> list[dict[str, Any]]:
        """Generate a week's figure per week: `level` says how far (0 to 1) the change has moved it."""
        rows: list[dict[str, Any]] = []
        for week in weeks:
            expected = spec.before + level(week) * (spec.after - spec.before)
            if spec.is_proportion:
                cases = self.rng.randint(*spec.cases)
                chance = min(max(expected + self.rng.gauss(0, 0.03), 0.0), 1.0)
                met = sum(self.rng.random() < chance for _ in range(cases))
                rows.append({"date": week, "numerator": met, "denominator": cases})
            else:
                value = max(expected + self.rng.gauss(0, spec.spread), 0.0)
                rows.append({"date": week, "value": Decimal(f"{value:.1f}")})
        return rows

    def _qi_data(self, work: _Work, stops_on: dt.date) -> None:
        """Weekly outcome, process and balancing data; the change shows after each PDSA cycle."""
        theme = work.theme
        weeks = self._weeks(work.starts_on - dt.timedelta(weeks=BASELINE_WEEKS), stops_on)
        starts = []
        if work.spec.status != ABANDONED:  # abandoned projects never got past their baseline
            first = work.starts_on + dt.timedelta(days=21)
            starts = [day for day in (first, first + dt.timedelta(days=21)) if day <= stops_on - dt.timedelta(days=7)]

        def progress(week: dt.date) -> float:
            started = sum(week >= day for day in starts)
            return (0.0, 0.8, 1.0)[started]

        series = {
            Measure.Kind.OUTCOME: (theme.outcome, self._series(theme.outcome, weeks, progress)),
            Measure.Kind.PROCESS: (theme.process, self._series(theme.process, weeks, progress)),
            Measure.Kind.BALANCING: (theme.balancing, self._series(theme.balancing, weeks, progress)),
        }
        outcome_rows = series[Measure.Kind.OUTCOME][1]
        for number in range(1, len(starts) + 1):
            work.cycles.append(self._pdsa(work, number, starts, stops_on, outcome_rows))
        for kind, (spec, rows) in series.items():
            for cycle in work.cycles:
                first_week = next((row for row in rows if row["date"] >= cycle.starts_on), None)
                if first_week is not None:
                    first_week["pdsa_cycle"] = cycle
                    first_week["note"] = f"PDSA {cycle.number} started"
            self._add(work, self._measure(work, spec, kind), rows)

    def _pdsa(
        self, work: _Work, number: int, starts: Sequence[dt.date], stops_on: dt.date, rows: list[dict[str, Any]]
    ) -> PDSACycle:
        """Record PDSA cycle `number` (of the cycles starting on `starts`), studied against the outcome data."""
        assert work.project is not None
        theme, outcome, starts_on = work.theme, work.theme.outcome, starts[number - 1]
        ends_on = starts_on + dt.timedelta(days=14 if number == 1 else 21)
        change = theme.changes[number - 1]
        predicted = outcome.before + (0.8 if number == 1 else 1.0) * (outcome.after - outcome.before)
        fields: dict[str, Any] = {
            "question": f"Will this change improve '{outcome.name}' towards the aim?",
            "prediction": f"{outcome.name} will move from about {_show(outcome, outcome.before)} to "
            f"{_show(outcome, predicted)}.",
            "plan_who": f"{work.lead_on(starts_on).full_name} with the ward manager and the nurse in charge of each "
            "shift.",
            "plan_what": change,
            "plan_when": f"{starts_on.day} {starts_on:%B} to {ends_on.day} {ends_on:%B %Y}",
            "plan_where": work.department_spec.ward[0].upper() + work.department_spec.ward[1:],
            "starts_on": starts_on,
        }
        if ends_on < stops_on:  # the cycle has finished: record what happened and the decision
            baseline = [_value(outcome, row) for row in rows if row["date"] < starts[0]]
            during = [_value(outcome, row) for row in rows if starts_on <= row["date"] <= stops_on]
            fields |= {
                "ends_on": ends_on,
                "do_notes": "Tested on one bay for the first week, then across the ward. Night staff had not been "
                "briefed at first; a reminder at handover fixed that."
                if number == 1
                else "Rolled out on every shift with the ward manager's support; two agency shifts did not know about "
                "it.",
                "study": f"Median {_show(outcome, statistics.median(baseline))} at baseline and "
                f"{_show(outcome, statistics.median(during))} since the change (predicted "
                f"{_show(outcome, predicted)}).",
                "act": PDSACycle.Act.ADAPT if number == 1 else PDSACycle.Act.ADOPT,
                "act_notes": "Keep it, and test a second change for the weeks it was missed."
                if number == 1
                else "Adopted as standard practice; the ward manager has taken over the weekly check.",
            }
        return services.pdsa_cycle_create(actor=work.current_lead, project=work.project, change_idea=change, **fields)

    def _audit_data(self, work: _Work, stops_on: dt.date) -> None:
        """One figure per audit cycle: the first audit a year ago for a re-audit, then this one."""
        theme = work.theme
        assert work.project is not None
        collected = work.project.milestones.filter(kind=Milestone.Kind.DATA_COLLECTION).values_list("due_on", flat=True)
        spec = MeasureSpec(
            "Compliance with the standard",
            f"Consecutive {theme.population} meeting the standard ('{theme.audited.name}') / all "
            f"{theme.population} audited, against {theme.standard}.",
            theme.audited.before,
            theme.audited.after,
            cases=(45, 60),
            target=theme.audited.target,
        )
        cycles: list[tuple[dt.date, float]] = []
        if work.spec.category == RE_AUDIT:
            cycles.append((work.starts_on - dt.timedelta(days=self.rng.randint(330, 400)), 0.0))
        if collected and collected[0] < stops_on:
            cycles.append((collected[0], 0.85 if work.spec.category == RE_AUDIT else 0.3))
        rows = []
        for day, share in cycles:
            rows += self._series(spec, [day], lambda _, share=share: share)
        self._add(work, self._measure(work, spec, Measure.Kind.PROCESS), rows)

    def _evaluation_data(self, work: _Work, stops_on: dt.date) -> None:
        """Eight weeks describing the service, from the evaluation's start."""
        spec = work.theme.process
        weeks = self._weeks(work.starts_on, stops_on)[:8]
        self._add(work, self._measure(work, spec, Measure.Kind.PROCESS), self._series(spec, weeks, lambda _: 0.4))

    def _outcome(self, work: _Work) -> str:
        theme = work.theme
        category = work.spec.category
        if category == QI:
            outcome, rows = theme.outcome, work.rows[theme.outcome.name]
            first = work.cycles[0].starts_on
            before = [_value(outcome, row) for row in rows if row["date"] < first]
            after = [_value(outcome, row) for row in rows if row["date"] >= first]
            changes = "; ".join(_lower_first(cycle.change_idea) for cycle in work.cycles)
            cycles = "one PDSA cycle" if len(work.cycles) == 1 else f"{len(work.cycles)} PDSA cycles"
            return (
                f"{outcome.name}: the weekly median moved from {_show(outcome, statistics.median(before))} to "
                f"{_show(outcome, statistics.median(after))} and held for {len(after)} weeks, after {cycles} "
                f"({changes}). {theme.balancing.name}: no change."
            )
        rows = work.rows["Compliance with the standard"] if category != EVALUATION else work.rows[theme.process.name]
        figures = [
            f"{row['numerator']} of {row['denominator']} ({row['numerator'] / row['denominator']:.0%})" for row in rows
        ]
        if category == AUDIT:
            return (
                f"{figures[-1]} consecutive {theme.population} met {theme.standard}. Action plan agreed at the "
                f"{work.department_spec.division} governance meeting: {_lower_first(theme.changes[0])}."
            )
        if category == RE_AUDIT:
            return (
                f"Compliance with {theme.standard} rose from {figures[0]} at the first audit to {figures[-1]} at "
                "re-audit: the loop is closed, and the next re-audit is planned for a year's time."
            )
        met, total = sum(row["numerator"] for row in rows), sum(row["denominator"] for row in rows)
        return (
            f"Over {len(rows)} weeks, '{theme.process.name}' was met for {met} of {total} ({met / total:.0%}). The "
            f"report, with three recommendations, went to the team running {theme.service}."
        )


def _lower_first(text: str) -> str:
    """Lower-case the first letter of a sentence to run it on, leaving acronyms (PEWS, ECG) alone."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _method(category: str) -> str:
    if category in (AUDIT, RE_AUDIT):
        return Project.Method.AUDIT_CYCLE
    return Project.Method.OTHER


def _value(spec: MeasureSpec, row: dict[str, Any]) -> float:
    """Return a data row's figure: a proportion (0 to 1) or the plain value."""
    if spec.is_proportion:
        return row["numerator"] / row["denominator"]
    return float(row["value"])


def _show(spec: MeasureSpec, level: float) -> str:
    """Format a level for text: a proportion as a percentage, a value with its unit."""
    if spec.is_proportion:
        return f"{level:.0%}"
    return f"{level:.1f} {spec.unit}"
