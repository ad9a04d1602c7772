"""``manage.py seed_demo``: a believable trust, built through the services, safe to run twice.

Seeding takes a few seconds, so the class below seeds once, inside a transaction that is rolled
back when its last test has run; each test still runs in its own savepoint (the ``db`` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from qi.charts import RULE_LABELS
from qi.demo import ADMIN_EMAIL, DEMO_PASSWORD, ORGANISATION_CODE
from qi.demo.showcase import SHOWCASE
from qi.measure_charts import measure_chart
from qi.models import (
    AuditEvent,
    DataPoint,
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
    today,
)
from qi.patient_data import find_nhs_numbers
from tests.factories import UserFactory

ALICE = "alice.fy1@riverside.example"
SAM = "sam.okafor@riverside.example"
QUINN = "quinn.adeyemi@riverside.example"
OLGA = "olga.petrova@riverside.example"
TRAINEE_GRADES = {Grade.FY1, Grade.FY2, Grade.CT1, Grade.CT2, Grade.CT3, Grade.SAS} | {f"ST{n}" for n in range(1, 9)}
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the conftest uses for every test
MODELS = (
    Organisation,
    Department,
    User,
    Role,
    Placement,
    Topic,
    Project,
    ProjectMembership,
    Handover,
    Milestone,
    Review,
    PDSACycle,
    Measure,
    DataPoint,
    AuditEvent,
)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Seed the demo trust once for the class; roll it back afterwards."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        atomic = transaction.atomic()
        atomic.__enter__()
        output = seed()
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.mark.usefixtures("seeded", "db")
class TestDemoTrust:
    def test_it_builds_one_trust_with_departments(self):
        organisation = Organisation.objects.get(code=ORGANISATION_CODE)
        departments = organisation.departments.all()
        assert departments.count() >= 6
        assert all(department.specialty and department.division for department in departments)

    def test_every_doctor_has_a_current_placement_with_supervisors(self):
        doctors = User.objects.filter(grade__in=TRAINEE_GRADES)
        assert doctors.count() >= 40
        assert set(doctors.values_list("grade", flat=True)) == TRAINEE_GRADES
        current = Placement.objects.current().filter(doctor__in=doctors)
        assert current.values("doctor").distinct().count() == doctors.count()
        assert not current.filter(Q(educational_supervisor=None) | Q(clinical_supervisor=None)).exists()

    def test_consultants_supervise_and_two_qi_leads_hold_roles(self):
        supervisors = User.objects.filter(grade=Grade.CONSULTANT).filter(
            Q(clinical_supervisees__isnull=False) | Q(supervised_projects__isnull=False)
        )
        assert supervisors.distinct().count() >= 8
        roles = Role.objects.filter(kind=Role.Kind.QI_LEAD, organisation__code=ORGANISATION_CODE)
        assert roles.count() == 2
        assert roles.filter(department__isnull=False, user__email=QUINN).exists()
        assert roles.filter(department__isnull=True, user__email=OLGA).exists()

    def test_an_admin_can_log_in_to_the_admin_site(self):
        admin = User.objects.get(email=ADMIN_EMAIL)
        assert admin.is_superuser and admin.is_staff

    def test_sixty_projects_cover_every_status_and_category(self):
        projects = Project.objects.filter(department__organisation__code=ORGANISATION_CODE)
        assert projects.count() == 60
        assert set(projects.values_list("status", flat=True)) == set(Project.Status.values)
        assert set(projects.values_list("category", flat=True)) == set(Project.Category.values)
        assert not projects.annotate(n=Count("topics")).filter(n=0).exists()
        assert not projects.annotate(n=Count("memberships", filter=Q(memberships__role="lead"))).filter(n=0).exists()

    def test_completed_and_abandoned_projects_say_what_happened(self):
        completed = Project.objects.filter(status=Project.Status.COMPLETED)
        assert completed.exists()
        assert not completed.filter(Q(outcome_summary="") | Q(lessons_learned="") | Q(completed_at=None)).exists()
        assert not Project.objects.filter(status=Project.Status.ABANDONED, abandon_reason="").exists()

    def test_milestones_are_in_every_state_a_dashboard_shows(self):
        assert Milestone.objects.overdue().filter(project__status=Project.Status.ACTIVE).exists()
        assert Milestone.objects.due_within(7).filter(project__status=Project.Status.ACTIVE).exists()
        assert Milestone.objects.awaiting_review().exists()
        assert Milestone.objects.filter(status=Milestone.Status.APPROVED).exists()
        sent_back = Milestone.objects.filter(status=Milestone.Status.CHANGES_REQUESTED)
        assert sent_back.exists()
        for milestone in sent_back:
            assert milestone.reviews.last().decision == Review.Decision.CHANGES_REQUESTED
            assert milestone.reviews.last().comment

    def test_the_timeline_is_in_the_past_and_in_order(self):
        now = timezone.now()
        assert not DataPoint.objects.filter(date__gt=today()).exists()
        assert not Milestone.objects.filter(Q(submitted_at__gt=now) | Q(decided_at__gt=now)).exists()
        assert not Review.objects.filter(Q(created_at__gt=now) | Q(created_at__lt=F("milestone__project__created_at")))
        for review in Review.objects.select_related("milestone").filter(decision=Review.Decision.APPROVED):
            assert review.created_at >= review.milestone.submitted_at
        assert not Project.objects.filter(starts_on__gt=today()).exists()
        assert not ProjectMembership.objects.filter(left_at__lt=F("joined_at")).exists()

    def test_qi_projects_have_pdsa_cycles_and_a_family_of_measures(self):
        qi_projects = Project.objects.filter(category=Project.Category.QI, status=Project.Status.COMPLETED)
        for project in qi_projects:
            assert project.pdsa_cycles.exists()
            assert {m.kind for m in project.measures.all()} == set(Measure.Kind.values)
        assert PDSACycle.objects.exclude(act="").exists()

    def test_a_measure_shows_a_sustained_improvement_after_a_pdsa_cycle(self):
        measure = Measure.objects.get(
            project__title="Sepsis Six within one hour on the Acute Medical Unit", kind=Measure.Kind.OUTCOME
        )
        points = list(measure.data_points.order_by("date"))
        assert len(points) >= 20
        assert all(point.denominator for point in points)
        first_cycle = next(point for point in points if point.pdsa_cycle_id)
        before = [p.numerator / p.denominator for p in points if p.date < first_cycle.date]
        after = [p.numerator / p.denominator for p in points if p.date > first_cycle.date]
        assert len(after) >= 6
        assert sum(after) / len(after) - sum(before) / len(before) > 0.2
        assert min(after) > sorted(before)[len(before) // 2]  # every point after the change is above the median

    def test_it_goes_through_the_services_so_the_audit_trail_is_real(self):
        verbs = set(AuditEvent.objects.values_list("verb", flat=True))
        assert {
            "project.created",
            "project.member_added",
            "project.activated",
            "project.completed",
            "project.abandoned",
            "project.handed_over",
            "milestone.submitted",
            "milestone.resubmitted",
            "milestone.approved",
            "milestone.changes_requested",
            "pdsa.created",
            "measure.created",
            "data_points.added",
        } <= verbs
        assert Handover.objects.exists()

    def test_people_have_valid_gmc_numbers_and_lower_case_emails(self):
        numbers = list(User.objects.exclude(gmc_number="").values_list("gmc_number", flat=True))
        assert len(numbers) >= 50
        assert len(set(numbers)) == len(numbers)
        assert all(len(number) == 7 and number.isdigit() for number in numbers)
        assert all(email == email.lower() for email in User.objects.values_list("email", flat=True))

    def test_every_measure_charts_and_every_kind_of_signal_is_shown(self):
        measures = list(Measure.objects.select_related("project"))
        shown: dict[str, set[str]] = {}
        for measure in measures:
            analysis = measure_chart(measure).analysis  # raises ChartError if a demo measure cannot be charted
            assert analysis.verdict
            for signal in analysis.signals:
                shown.setdefault(signal.rule, set()).add(measure.name)
        assert set(shown) == set(RULE_LABELS)
        showcase = {spec.name: spec for spec in SHOWCASE}
        for spec in SHOWCASE:
            for rule in spec.shows:
                assert spec.name in shown[rule], f"{spec.name} should show {rule}"
        kinds = {measure_chart(m).analysis.kind for m in measures if m.name in showcase}
        assert kinds == {"run", "xmr", "p", "c"}

    def test_the_api_answers_the_chart_of_every_demo_measure(self):
        client = APIClient()
        client.force_authenticate(User.objects.get(email=OLGA))  # the organisation's QI lead sees every project
        measures = Measure.objects.filter(project__department__organisation__code=ORGANISATION_CODE)
        assert measures.count() > 100
        for measure in measures:
            response = client.get(f"/api/v1/measures/{measure.pk}/chart/")
            assert response.status_code == 200, (measure.name, response.content)
            body = response.json()
            assert body["measure"] == measure.pk and body["verdict"]
            assert len(body["points"]) == measure.data_points.count()

    def test_the_showcase_measures_use_freeze_phases_and_targets(self):
        fluids = measure_chart(Measure.objects.get(name="IV fluids started within one hour")).analysis
        assert len(fluids.phases) == 2 and fluids.assurance == "may_or_may_not"
        lactate = measure_chart(Measure.objects.get(name="Lactate measured within one hour")).analysis
        assert lactate.phases[0].baseline_points == 12
        assert lactate.verdict.endswith("the change is working, not chance.")
        assert lactate.assurance == "fails"  # 95% is above what the improved process delivers

    def test_no_free_text_holds_an_nhs_number(self):
        texts = [
            *Project.objects.values_list("title", "problem", "aim", "outcome_summary", "lessons_learned"),
            *Milestone.objects.values_list("evidence"),
            *Review.objects.values_list("comment"),
            *PDSACycle.objects.values_list("change_idea", "prediction", "study", "act_notes"),
            *Measure.objects.values_list("name", "operational_definition"),
        ]
        assert not [text for row in texts for text in row if find_nhs_numbers(text)]

    def test_it_prints_the_logins_and_the_shared_password(self, seeded):
        assert DEMO_PASSWORD in seeded
        for email in (ADMIN_EMAIL, ALICE, SAM, QUINN, OLGA):
            assert email in seeded

    def test_the_demo_password_logs_each_demo_user_in(self):
        for email in (ADMIN_EMAIL, ALICE, SAM, QUINN, OLGA):
            assert authenticate(username=email, password=DEMO_PASSWORD) == User.objects.get(email=email)
        assert authenticate(username=ALICE, password="wrong password") is None

    def test_the_named_logins_have_something_to_show(self):
        alice = User.objects.get(email=ALICE)
        sam = User.objects.get(email=SAM)
        assert alice.grade == Grade.FY1
        assert Project.objects.led_by(alice).count() >= 3
        assert Milestone.objects.reviewable_by(sam).awaiting_review().exists()
        assert Project.objects.visible_to(User.objects.get(email=QUINN)).exists()
        assert Project.objects.visible_to(User.objects.get(email=OLGA)).count() == 60

    def test_running_it_again_changes_nothing(self):
        before = counts()
        output = seed()
        assert counts() == before
        assert "already seeded" in output
        assert ALICE in output and DEMO_PASSWORD in output


def test_it_refuses_when_a_demo_address_belongs_to_someone_else(db):
    UserFactory(email=ALICE)
    with pytest.raises(CommandError, match=ALICE):
        seed()
    assert not Organisation.objects.filter(code=ORGANISATION_CODE).exists()
