"""The admin site: every qi model is there, pages open, searches filter, lists run constant queries.

``admin_client`` (pytest-django) logs in a superuser made through ``create_superuser`` with the
model's USERNAME_FIELD, which works with the e-mail login of ``qi.User``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qi.models import (
    AuditEvent,
    DataPoint,
    Handover,
    Milestone,
    Project,
    ProjectMembership,
    Review,
    Role,
    Topic,
    User,
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

QI_MODELS = sorted(apps.get_app_config("qi").get_models(), key=lambda model: model.__name__)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@dataclass
class World:
    project: Project
    milestone: Milestone
    audit_event: AuditEvent


def build_world(tag: str) -> World:
    """One row of every kind, linked as real use links them, with ``tag`` in every searchable name."""
    org = OrganisationFactory(name=f"{tag} NHS Trust")
    department = DepartmentFactory(organisation=org, name=f"{tag} cardiology")
    lead, member, supervisor = (
        UserFactory(full_name=f"{tag} {who}", email=f"{who}@{tag}.nhs.uk", organisation=org)
        for who in ("lead", "member", "supervisor")
    )
    Role.objects.create(user=supervisor, organisation=org, department=department)
    PlacementFactory(
        doctor=lead, department=department, educational_supervisor=supervisor, clinical_supervisor=supervisor
    )
    topic = Topic.objects.create(name=f"{tag} sepsis", slug=f"{tag}-sepsis")
    project = ProjectFactory(
        title=f"{tag} faster antibiotics", department=department, supervisor=supervisor, status="active"
    )
    project.topics.add(topic)
    MembershipFactory(project=project, user=lead, role=ProjectMembership.Role.LEAD)
    MembershipFactory(project=project, user=member)
    Handover.objects.create(project=project, from_lead=member, to_lead=lead, handed_over_by=supervisor)
    milestone = MilestoneFactory(
        project=project,
        title=f"{tag} baseline data",
        status=Milestone.Status.APPROVED,
        evidence="Baseline of 20 weeks collected.",
        submitted_at=timezone.now(),
        submitted_by=lead,
        decided_at=timezone.now(),
    )
    Review.objects.create(milestone=milestone, reviewer=supervisor, decision="approved", comment="Well done.")
    cycle = PDSACycleFactory(project=project, change_idea=f"{tag} sepsis screening prompt")
    measure = MeasureFactory(project=project, name=f"{tag} antibiotics within 1 hour")
    DataPoint.objects.create(measure=measure, date=dt.date(2025, 1, 6), value=42)
    DataPoint.objects.create(measure=measure, date=dt.date(2025, 1, 13), numerator=8, denominator=10, pdsa_cycle=cycle)
    audit_event = AuditEvent.objects.create(
        actor=lead,
        verb="project.activated",
        object_type="qi.project",
        object_id=str(project.pk),
        object_repr=str(project),
        project=project,
        before={"status": "draft"},
        after={"status": "active"},
    )
    return World(project=project, milestone=milestone, audit_event=audit_event)


@pytest.fixture
def world() -> World:
    return build_world("alpha")


def test_every_qi_model_is_registered():
    unregistered = [model.__name__ for model in QI_MODELS if not admin.site.is_registered(model)]
    assert unregistered == []


@pytest.mark.parametrize("model", QI_MODELS, ids=lambda model: model.__name__)
def test_superuser_opens_the_changelist_of_every_model(admin_client, world, model):
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", [m for m in QI_MODELS if m is not AuditEvent], ids=lambda model: model.__name__)
def test_superuser_opens_the_add_page_of_every_model_but_the_audit_trail(admin_client, model):
    response = admin_client.get(admin_url(model, "add"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", QI_MODELS, ids=lambda model: model.__name__)
def test_changelist_runs_the_same_number_of_queries_whatever_the_number_of_rows(admin_client, model):
    build_world("alpha")
    url = admin_url(model, "changelist")
    admin_client.get(url)  # warm up: session, content types
    with CaptureQueriesContext(connection) as one_world:
        assert admin_client.get(url).status_code == 200
    build_world("bravo")
    build_world("charlie")
    with CaptureQueriesContext(connection) as three_worlds:
        response = admin_client.get(url)
    assert response.context["cl"].result_count > 1
    assert len(three_worlds) == len(one_world), [q["sql"] for q in three_worlds.captured_queries]


# What searching for "alpha" finds of one world when a second, "bravo", exists.
SEARCH_HITS = {
    "AuditEvent": 1,
    "DataPoint": 2,
    "Department": 1,
    "Handover": 1,
    "Measure": 1,
    "Milestone": 1,
    "Organisation": 1,
    "PDSACycle": 1,
    "Placement": 1,
    "Project": 1,
    "ProjectMembership": 2,
    "Review": 1,
    "Role": 1,
    "Topic": 1,
    "User": 3,
}


def test_search_expectations_cover_every_model():
    assert set(SEARCH_HITS) == {model.__name__ for model in QI_MODELS}


@pytest.mark.parametrize("model", QI_MODELS, ids=lambda model: model.__name__)
def test_changelist_search_finds_only_the_matching_rows(admin_client, model):
    build_world("alpha")
    build_world("bravo")
    url = admin_url(model, "changelist")
    everything = admin_client.get(url).context["cl"].result_count
    response = admin_client.get(url, {"q": "alpha"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == SEARCH_HITS[model.__name__]
    assert everything > SEARCH_HITS[model.__name__]


def test_project_change_page_shows_the_team_and_the_milestone_plan(admin_client, world):
    response = admin_client.get(admin_url(Project, "change", world.project.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "alpha lead" in content
    assert "alpha baseline data" in content
    assert {formset.formset.prefix for formset in response.context["inline_admin_formsets"]} == {
        "memberships",
        "milestones",
    }


def test_milestone_change_page_shows_reviews_read_only(admin_client, world):
    response = admin_client.get(admin_url(Milestone, "change", world.milestone.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Well done." in content
    assert 'name="reviews-0-comment"' not in content
    assert 'name="reviews-0-decision"' not in content


def _milestone_post_data(milestone: Milestone, **changes) -> dict:
    data = {
        "project": milestone.project_id,
        "kind": milestone.kind,
        "title": milestone.title,
        "description": milestone.description,
        "due_on": milestone.due_on.isoformat(),
        "required": "on",
        "status": milestone.status,
        "evidence": milestone.evidence,
        "evidence_url": "",
        "submitted_at_0": "",
        "submitted_at_1": "",
        "submitted_by": "",
        "decided_at_0": "",
        "decided_at_1": "",
        "reviews-TOTAL_FORMS": "0",
        "reviews-INITIAL_FORMS": "0",
        "reviews-MIN_NUM_FORMS": "0",
        "reviews-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_milestone_change_page_saves_a_valid_change(admin_client):
    milestone = MilestoneFactory(title="Baseline")
    response = admin_client.post(
        admin_url(Milestone, "change", milestone.pk), _milestone_post_data(milestone, title="Baseline audit")
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.title == "Baseline audit"


def test_milestone_change_page_shows_a_broken_constraint_as_a_form_error(admin_client):
    milestone = MilestoneFactory(title="Baseline")
    response = admin_client.post(
        admin_url(Milestone, "change", milestone.pk), _milestone_post_data(milestone, status="submitted")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.PLANNED


def test_milestone_change_page_refuses_an_nhs_number_naming_the_field(admin_client):
    milestone = MilestoneFactory(title="Baseline")
    response = admin_client.post(
        admin_url(Milestone, "change", milestone.pk),
        _milestone_post_data(milestone, description="Patient 943 476 5919 missed"),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["description"]
    assert "Description" in errors["description"][0]
    milestone.refresh_from_db()
    assert milestone.description == ""


# --- The audit trail is read-only ---------------------------------------------------------------


def test_audit_changelist_loads_without_actions(admin_client, world):
    response = admin_client.get(admin_url(AuditEvent, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert "project.activated" in response.content.decode()
    assert "delete_selected" not in response.content.decode()


def test_audit_add_page_is_refused(admin_client):
    assert admin_client.get(admin_url(AuditEvent, "add")).status_code == 403


def test_audit_delete_page_is_refused(admin_client, world):
    url = admin_url(AuditEvent, "delete", world.audit_event.pk)
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=world.audit_event.pk).exists()


def test_audit_change_page_is_view_only(admin_client, world):
    response = admin_client.get(admin_url(AuditEvent, "change", world.audit_event.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="_save"' not in content
    assert 'name="_continue"' not in content
    assert 'name="verb"' not in content
    assert "project.activated" in content


def test_audit_change_page_refuses_a_post(admin_client, world):
    response = admin_client.post(admin_url(AuditEvent, "change", world.audit_event.pk), {"verb": "forged"})
    assert response.status_code == 403
    world.audit_event.refresh_from_db()
    assert world.audit_event.verb == "project.activated"


# --- Users --------------------------------------------------------------------------------------


def test_user_add_form_creates_a_user_who_logs_in_with_an_email_address(admin_client, client):
    organisation = OrganisationFactory()
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "New.Doctor@Example.NHS.uk",
            "full_name": "New Doctor",
            "grade": "FY1",
            "gmc_number": "7654321",
            "organisation": organisation.pk,
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.doctor@example.nhs.uk")
    assert user.full_name == "New Doctor"
    assert user.organisation == organisation
    assert not user.is_staff
    assert user.check_password("a long and unusual passphrase")
    assert client.login(username="NEW.DOCTOR@example.nhs.uk", password="a long and unusual passphrase")


def test_user_add_form_refuses_an_address_that_differs_only_in_case(admin_client):
    UserFactory(email="taken@example.nhs.uk")
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "Taken@Example.NHS.uk",
            "full_name": "Someone Else",
            "grade": "FY2",
            "gmc_number": "",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(full_name="Someone Else").count() == 0


def test_user_add_form_refuses_mismatched_passwords(admin_client):
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "mismatch@example.nhs.uk",
            "full_name": "Mismatch",
            "grade": "FY1",
            "password1": "a long and unusual passphrase",
            "password2": "another long passphrase",
        },
    )
    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="mismatch@example.nhs.uk").exists()


def test_user_change_page_opens(admin_client):
    user = UserFactory(full_name="Dr Change")
    response = admin_client.get(admin_url(User, "change", user.pk))
    assert response.status_code == 200
    assert "Dr Change" in response.content.decode()
