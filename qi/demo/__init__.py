"""Demo data: a believable NHS trust, built through the services so the audit trail is real.

``seed_demo()`` creates Riverside University Hospitals NHS Foundation Trust with eight departments,
40 resident doctors on their current (and, for foundation and core trainees, previous) rotations,
eight consultant supervisors, two QI leads, an administrator and 60 projects in every status and
category: milestones approved, waiting for review, sent back with a comment, overdue and due soon;
PDSA cycles; and weekly data where a change shows on the run chart. Dates are relative to today;
the numbers come from a seeded ``random.Random``, so two runs on the same day build the same trust.

Running it again changes nothing: if the trust exists, it is left alone and the logins are
returned again. Every user shares ``DEMO_PASSWORD``.

The package is split by what it holds: ``people`` (departments, doctors and rotations), ``themes``
(clinical themes and their measures) and ``data`` (constants, the projects and the texts written along
the way) are plain tables; ``builder`` turns them into the trust. This module is the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from qi import events
from qi.demo.builder import DemoSeedError, _Builder, _email
from qi.demo.data import ADMIN_EMAIL, DEMO_PASSWORD, ORGANISATION_CODE, ORGANISATION_NAME
from qi.demo.people import ALICE, DEPARTMENT_QI_LEAD, DEPARTMENTS, ORGANISATION_QI_LEAD
from qi.models import DataPoint, Grade, Milestone, Organisation, Project, User, today

# What callers outside the package use; the tables stay in their own modules.
__all__ = [
    "ADMIN_EMAIL",
    "DEMO_PASSWORD",
    "ORGANISATION_CODE",
    "DemoLogin",
    "DemoSeedError",
    "SeedResult",
    "demo_counts",
    "demo_logins",
    "seed_demo",
]


@dataclass(frozen=True)
class DemoLogin:
    who: str
    email: str


@dataclass(frozen=True)
class SeedResult:
    created: bool  # False when the trust was there already and nothing changed
    organisation: Organisation
    logins: list[DemoLogin]
    counts: dict[str, int]


def seed_demo() -> SeedResult:
    """Build the demo trust in one transaction, or leave an existing one alone; return the logins."""
    # The history is made up: announce none of it, or notifications would report a year of work at once.
    with transaction.atomic(), events.silenced():
        organisation = Organisation.objects.filter(Q(code=ORGANISATION_CODE) | Q(name=ORGANISATION_NAME)).first()
        created = organisation is None
        if organisation is None:
            organisation = _Builder(today()).build()
    return SeedResult(created, organisation, demo_logins(organisation), demo_counts(organisation))


def demo_logins(organisation: Organisation) -> list[DemoLogin]:
    """Describe the people to log in as, with what is waiting for each."""
    alice = _email(ALICE, Grade.FY1)
    sam = _email(*DEPARTMENTS[0].supervisor)
    quinn = _email(*DEPARTMENT_QI_LEAD[:2])
    olga = _email(*ORGANISATION_QI_LEAD)
    users = {user.email: user for user in User.objects.filter(email__in=[alice, sam, quinn, olga])}
    leads = Project.objects.led_by(users[alice]).count() if alice in users else 0
    waiting = Milestone.objects.reviewable_by(users[sam]).awaiting_review().count() if sam in users else 0
    quinn_department = organisation.departments.filter(roles__user__email=quinn).first()
    return [
        DemoLogin("Administrator (Django admin at /admin/)", ADMIN_EMAIL),
        DemoLogin(f"FY1 doctor who leads {_plural(leads, 'project')}", alice),
        DemoLogin(f"Supervisor with {_plural(waiting, 'milestone')} waiting for review", sam),
        DemoLogin(f"QI lead for {quinn_department or 'a department'}", quinn),
        DemoLogin(f"QI lead for the whole of {organisation.name}", olga),
    ]


def demo_counts(organisation: Organisation) -> dict[str, int]:
    projects = Project.objects.filter(department__organisation=organisation)
    return {
        "departments": organisation.departments.count(),
        "users": organisation.users.count(),
        "projects": projects.count(),
        "milestones": Milestone.objects.filter(project__in=projects).count(),
        "data points": DataPoint.objects.filter(measure__project__in=projects).count(),
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
