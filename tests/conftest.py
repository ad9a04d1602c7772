"""Shared fixtures: a trust with named people, and a check of which database the suite runs on.

The people: alice leads the project, bob is on her team, sam supervises it, quinn is QI lead
of its department, olga is QI lead of the whole organisation, ursula is QI lead of another
department, dora is a doctor in the same trust with no part in it, and charlie works for
another trust and must see nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.db import connection

from config.celery import app
from qi import services
from qi.models import Department, Grade, Organisation, Project, Role, User
from tests.factories import DepartmentFactory, OrganisationFactory, PlacementFactory, UserFactory


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}".rstrip()]


@pytest.fixture(scope="session", autouse=True)
def _required_database_vendor(django_db_setup, django_db_blocker):
    """Fail the run if QI_TEST_DATABASE_VENDOR is set and the suite would run on another database."""
    wanted = os.environ.get("QI_TEST_DATABASE_VENDOR")
    if wanted and connection.vendor != wanted:
        pytest.exit(f"Tests must run on {wanted} but DATABASE_URL points at {connection.vendor}.", returncode=3)


@pytest.fixture(autouse=True)
def _celery_eager():
    """Run tasks in-process: unit tests must not leave messages on a real broker.

    Integration tests that start a real worker turn this off with their own fixture.
    """
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply: the real hasher is slow by design and proves nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Trust:
    organisation: Organisation
    cardiology: Department
    surgery: Department
    alice: User
    bob: User
    sam: User
    quinn: User
    olga: User
    ursula: User
    dora: User
    charlie: User


@pytest.fixture
def trust(db) -> Trust:
    org = OrganisationFactory(name="Riverside NHS Foundation Trust", code="RVS")
    cardiology = DepartmentFactory(organisation=org, name="Cardiology", specialty="Cardiology")
    surgery = DepartmentFactory(organisation=org, name="General surgery", specialty="Surgery", division="Surgery")
    people = {
        name: UserFactory(email=f"{name}@riverside.nhs.uk", full_name=name.capitalize(), organisation=org, grade=grade)
        for name, grade in [
            ("alice", Grade.FY1),
            ("bob", Grade.FY2),
            ("sam", Grade.CONSULTANT),
            ("quinn", Grade.CONSULTANT),
            ("olga", Grade.CONSULTANT),
            ("ursula", Grade.CONSULTANT),
            ("dora", Grade.CT1),
        ]
    }
    Role.objects.create(user=people["quinn"], organisation=org, department=cardiology)
    Role.objects.create(user=people["olga"], organisation=org, department=None)
    Role.objects.create(user=people["ursula"], organisation=org, department=surgery)
    PlacementFactory(doctor=people["alice"], department=cardiology, clinical_supervisor=people["sam"])
    other_org = OrganisationFactory(name="Hillside NHS Trust", code="HLS")
    charlie = UserFactory(email="charlie@hillside.nhs.uk", full_name="Charlie", organisation=other_org)
    return Trust(organisation=org, cardiology=cardiology, surgery=surgery, charlie=charlie, **people)


@pytest.fixture
def project(trust: Trust) -> Project:
    """Alice's draft QI project in cardiology, bob on the team, sam supervising."""
    project = services.project_create(
        actor=trust.alice,
        department=trust.cardiology,
        title="Faster ECGs for chest pain",
        problem="Door-to-ECG time for chest pain averages 22 minutes.",
        aim="90% of chest pain patients have an ECG within 10 minutes of arrival by 31 March.",
    )
    services.project_member_add(actor=trust.alice, project=project, user=trust.bob)
    return project


@pytest.fixture
def active_project(trust: Trust, project: Project) -> Project:
    return services.project_activate(actor=trust.alice, project=project)
