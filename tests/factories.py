"""factory_boy factories for the QI domain; defaults build a believable, valid object."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from qi import models
from qi.models import today

PASSWORD = "correct horse battery staple"


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = models.Organisation
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Example NHS Foundation Trust {n}")
    code = factory.Sequence(lambda n: f"R{n:03d}")


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = models.Department

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Department {n}")
    specialty = "General medicine"
    division = "Medicine"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = models.User

    email = factory.Sequence(lambda n: f"doctor{n}@example.nhs.uk")
    full_name = factory.Sequence(lambda n: f"Doctor {n}")
    grade = models.Grade.FY1
    gmc_number = factory.Sequence(lambda n: f"{7000000 + n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password(PASSWORD)


class RoleFactory(DjangoModelFactory):
    class Meta:
        model = models.Role

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    organisation = factory.LazyAttribute(lambda o: o.department.organisation if o.department else o.user.organisation)


class PlacementFactory(DjangoModelFactory):
    class Meta:
        model = models.Placement

    doctor = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    starts_on = factory.LazyFunction(lambda: today() - dt.timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=120))


class ProjectFactory(DjangoModelFactory):
    """A bare project row; use qi.services.project_create to get a lead and a milestone plan."""

    class Meta:
        model = models.Project

    title = factory.Sequence(lambda n: f"Improving VTE assessment {n}")
    problem = "Only 60% of admissions have a VTE risk assessment within 14 hours."
    aim = "95% of admissions assessed within 14 hours by 1 March."
    department = factory.SubFactory(DepartmentFactory)
    starts_on = factory.LazyFunction(today)
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=120))


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = models.ProjectMembership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = models.ProjectMembership.Role.MEMBER


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = models.Milestone

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    status = models.Milestone.Status.PLANNED
    due_on = factory.LazyFunction(lambda: today() + dt.timedelta(days=14))
    decided_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status in (models.Milestone.Status.APPROVED, "changes_requested") else None
    )


class MeasureFactory(DjangoModelFactory):
    class Meta:
        model = models.Measure

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"VTE assessments within 14 h {n}")
    operational_definition = "Admissions with a completed assessment / all admissions, weekly."
    unit = "%"
    better = models.Measure.Direction.UP


class PDSACycleFactory(DjangoModelFactory):
    class Meta:
        model = models.PDSACycle

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    change_idea = "A VTE prompt on the admission clerking proforma."
