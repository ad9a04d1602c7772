"""The workflow services: every transition allowed and refused, with its audit event and announcement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from qi import events, services
from qi.errors import QINotFoundError, QIPermissionError, QITransitionError, QIValidationError
from qi.milestone_plans import PLANS
from qi.models import AuditEvent, Handover, Milestone, Project, ProjectMembership, Review
from tests.factories import PlacementFactory

VALID_NHS_NUMBER = "943 476 5919"


@pytest.fixture
def announced():
    """Collect the domain events sent after commit."""
    received: list[tuple[str, dict]] = []
    signals = {name: getattr(events, name) for name in dir(events) if isinstance(getattr(events, name), events.Signal)}
    handlers = {}
    for name, signal in signals.items():

        def handler(sender, _name=name, **kwargs):
            received.append((_name, kwargs))

        handlers[name] = handler
        signal.connect(handler, weak=False)
    yield received
    for name, signal in signals.items():
        signal.disconnect(handlers[name])


def submit_and_approve_required(project, lead, supervisor):
    for milestone in project.milestones.filter(required=True):
        services.milestone_submit(actor=lead, milestone=milestone, evidence="Slides and data on the shared drive.")
        services.milestone_approve(actor=supervisor, milestone=milestone)


# --- project_create ---------------------------------------------------------------------------


class TestProjectCreate:
    @time_machine.travel(dt.datetime(2026, 9, 1, 9, 0), tick=False)
    def test_it_plans_milestones_within_the_leads_placement(self, trust):
        placement = PlacementFactory(
            doctor=trust.dora,
            department=trust.surgery,
            starts_on=dt.date(2026, 8, 5),
            ends_on=dt.date(2026, 12, 1),
            clinical_supervisor=trust.sam,
        )
        project = services.project_create(
            actor=trust.dora,
            department=trust.surgery,
            title="Consent forms complete",
            problem="A third of consent forms lack a documented risk.",
            aim="95% of consent forms complete by December.",
        )
        due_dates = list(project.milestones.values_list("due_on", flat=True))
        assert len(due_dates) == len(PLANS[Project.Category.QI])
        assert min(due_dates) > dt.date(2026, 9, 1)
        assert max(due_dates) == placement.ends_on
        assert project.ends_on == placement.ends_on
        assert project.supervisor == trust.sam  # proposed from the placement
        assert project.status == Project.Status.DRAFT
        assert project.lead == trust.dora

    @pytest.mark.parametrize("category", Project.Category.values)
    def test_every_category_gets_its_own_plan(self, trust, category):
        project = services.project_create(
            actor=trust.alice, department=trust.cardiology, title="T", problem="P", aim="A", category=category
        )
        kinds = list(project.milestones.order_by("due_on", "pk").values_list("kind", flat=True))
        assert kinds == [step.kind for step in PLANS[category]]

    def test_without_a_placement_the_project_runs_four_months(self, trust):
        project = services.project_create(actor=trust.dora, department=trust.surgery, title="T", problem="P", aim="A")
        assert (project.ends_on - project.starts_on).days == services.DEFAULT_PROJECT_DAYS
        assert project.supervisor is None

    def test_it_records_an_audit_event_and_announces_after_commit(
        self, trust, announced, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            project = services.project_create(
                actor=trust.alice, department=trust.cardiology, title="T", problem="P", aim="A"
            )
        event = AuditEvent.objects.get(verb="project.created")
        assert (event.actor, event.project, event.after["title"]) == (trust.alice, project, "T")
        assert (
            "project_created",
            {
                "signal": events.project_created,
                "audit_event_id": event.pk,
                "project_id": project.pk,
                "actor_id": trust.alice.pk,
            },
        ) in announced

    def test_nothing_is_announced_when_the_transaction_rolls_back(
        self, trust, announced, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.project_create(actor=trust.alice, department=trust.cardiology, title="T", problem="P", aim="A")
            raise RuntimeError("something later in the same transaction fails")
        assert callbacks == []
        assert announced == []
        assert not Project.objects.exists()

    def test_silenced_events_are_not_announced(self, trust, announced, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True), events.silenced():
            services.project_create(actor=trust.alice, department=trust.cardiology, title="T", problem="P", aim="A")
        assert announced == []
        assert AuditEvent.objects.filter(verb="project.created").exists()  # still recorded

    def test_a_doctor_cannot_start_a_project_in_another_trust(self, trust):
        with pytest.raises(QIValidationError, match="Riverside"):
            services.project_create(actor=trust.charlie, department=trust.cardiology, title="T", problem="P", aim="A")
        assert not Project.objects.exists()

    def test_an_nhs_number_in_the_problem_is_refused_naming_the_field(self, trust):
        with pytest.raises(QIValidationError) as caught:
            services.project_create(
                actor=trust.alice,
                department=trust.cardiology,
                title="T",
                problem=f"Patient {VALID_NHS_NUMBER} waited 40 minutes",
                aim="A",
            )
        assert "Problem" in caught.value.field_errors["problem"]
        assert "NHS number" in caught.value.message
        assert not Project.objects.exists()
        assert not AuditEvent.objects.exists()

    def test_the_lead_cannot_supervise_their_own_project(self, trust):
        with pytest.raises(QIValidationError, match="supervise your own"):
            services.project_create(
                actor=trust.alice, department=trust.cardiology, title="T", problem="P", aim="A", supervisor=trust.alice
            )


# --- team and supervisor ----------------------------------------------------------------------


class TestTeam:
    def test_lead_adds_and_removes_a_member_keeping_history(self, trust, project):
        services.project_member_add(actor=trust.alice, project=project, user=trust.dora)
        services.project_member_remove(actor=trust.alice, project=project, user=trust.dora)
        memberships = ProjectMembership.objects.filter(project=project, user=trust.dora)
        assert memberships.count() == 1 and memberships.get().left_at is not None
        services.project_member_add(actor=trust.alice, project=project, user=trust.dora)
        assert ProjectMembership.objects.filter(project=project, user=trust.dora).count() == 2
        verbs = list(AuditEvent.objects.filter(project=project).values_list("verb", flat=True))
        assert verbs.count("project.member_added") == 3  # bob in the fixture, dora twice
        assert "project.member_removed" in verbs

    def test_a_member_cannot_change_the_team(self, trust, project):
        with pytest.raises(QIPermissionError):
            services.project_member_add(actor=trust.bob, project=project, user=trust.dora)

    def test_a_member_may_leave(self, trust, project, announced, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.project_member_remove(actor=trust.bob, project=project, user=trust.bob)
        assert [name for name, _ in announced] == ["member_removed"]
        assert AuditEvent.objects.get(verb="project.member_removed").before == {"user": trust.bob.pk}
        assert not ProjectMembership.objects.current().filter(project=project, user=trust.bob).exists()

    def test_the_lead_cannot_leave_without_handing_over(self, trust, project):
        with pytest.raises(QITransitionError, match="hand the project over"):
            services.project_member_remove(actor=trust.alice, project=project, user=trust.alice)

    def test_nobody_joins_twice(self, trust, project):
        with pytest.raises(QIValidationError, match="already on the team"):
            services.project_member_add(actor=trust.alice, project=project, user=trust.bob)

    def test_the_supervisor_cannot_join_the_team(self, trust, project):
        with pytest.raises(QIValidationError, match="supervises this project"):
            services.project_member_add(actor=trust.alice, project=project, user=trust.sam)

    def test_an_inactive_account_cannot_join_or_supervise(self, trust, project):
        trust.dora.is_active = False
        trust.dora.save()
        with pytest.raises(QIValidationError, match="no active account"):
            services.project_member_add(actor=trust.alice, project=project, user=trust.dora)
        with pytest.raises(QIValidationError, match="no active account"):
            services.project_supervisor_set(actor=trust.alice, project=project, supervisor=trust.dora)

    def test_a_doctor_from_another_trust_cannot_join(self, trust, project):
        with pytest.raises(QIValidationError):
            services.project_member_add(actor=trust.alice, project=project, user=trust.charlie)

    def test_qi_lead_sets_the_supervisor(self, trust, project, announced, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.project_supervisor_set(actor=trust.quinn, project=project, supervisor=trust.dora)
        project.refresh_from_db()
        assert project.supervisor == trust.dora
        event = AuditEvent.objects.get(verb="project.supervisor_set")
        assert event.before == {"supervisor": trust.sam.pk} and event.after == {"supervisor": trust.dora.pk}
        assert any(name == "supervisor_assigned" and kw["supervisor_id"] == trust.dora.pk for name, kw in announced)

    def test_a_team_member_cannot_be_made_supervisor(self, trust, project):
        with pytest.raises(QIValidationError, match="on the project team"):
            services.project_supervisor_set(actor=trust.alice, project=project, supervisor=trust.bob)

    def test_a_qi_lead_of_another_department_cannot_set_the_supervisor(self, trust, project):
        with pytest.raises(QINotFoundError):
            services.project_supervisor_set(actor=trust.ursula, project=project, supervisor=trust.dora)


# --- project status ---------------------------------------------------------------------------


class TestProjectStatus:
    def test_the_lead_activates_a_draft(self, trust, project):
        services.project_activate(actor=trust.alice, project=project)
        project.refresh_from_db()
        assert project.status == Project.Status.ACTIVE
        event = AuditEvent.objects.get(verb="project.activated")
        assert event.before == {"status": "draft"} and event.after == {"status": "active"}

    def test_a_project_needs_a_supervisor_to_activate(self, trust):
        project = services.project_create(actor=trust.dora, department=trust.surgery, title="T", problem="P", aim="A")
        with pytest.raises(QITransitionError, match="Name a supervisor"):
            services.project_activate(actor=trust.dora, project=project)

    def test_a_member_cannot_activate(self, trust, project):
        with pytest.raises(QIPermissionError):
            services.project_activate(actor=trust.bob, project=project)

    def test_an_active_project_cannot_be_activated_again(self, trust, active_project):
        with pytest.raises(QITransitionError, match="Only a draft"):
            services.project_activate(actor=trust.alice, project=active_project)

    def test_completion_needs_every_required_milestone_approved(self, trust, active_project):
        with pytest.raises(QITransitionError, match="required milestone"):
            services.project_complete(
                actor=trust.alice, project=active_project, outcome_summary="Better", lessons_learned="Start small"
            )
        active_project.refresh_from_db()
        assert active_project.status == Project.Status.ACTIVE

    def test_completion_needs_at_least_one_approved_milestone(self, trust, project):
        project.milestones.update(required=False)  # a plan made all optional while in draft
        services.project_activate(actor=trust.alice, project=project)
        with pytest.raises(QITransitionError, match="No milestone has been approved"):
            services.project_complete(actor=trust.alice, project=project, outcome_summary="x", lessons_learned="y")

    def test_completion_needs_outcome_and_lessons(self, trust, active_project):
        submit_and_approve_required(active_project, trust.alice, trust.sam)
        with pytest.raises(QIValidationError) as caught:
            services.project_complete(actor=trust.alice, project=active_project, outcome_summary="  ")
        assert set(caught.value.field_errors) == {"outcome_summary", "lessons_learned"}

    def test_the_lead_completes_a_finished_project(
        self, trust, active_project, announced, django_capture_on_commit_callbacks
    ):
        submit_and_approve_required(active_project, trust.alice, trust.sam)
        optional = active_project.milestones.filter(required=False)
        assert optional.exists() and optional.exclude(status=Milestone.Status.APPROVED).exists()
        with django_capture_on_commit_callbacks(execute=True):
            services.project_complete(
                actor=trust.alice,
                project=active_project,
                outcome_summary="Door-to-ECG fell from 22 to 8 minutes.",
                lessons_learned="Involve the triage nurses from the start.",
            )
        active_project.refresh_from_db()
        assert active_project.status == Project.Status.COMPLETED and active_project.completed_at
        assert any(name == "project_completed" for name, _ in announced)

    def test_a_member_cannot_complete(self, trust, active_project):
        submit_and_approve_required(active_project, trust.alice, trust.sam)
        with pytest.raises(QIPermissionError):
            services.project_complete(actor=trust.bob, project=active_project, outcome_summary="x", lessons_learned="y")

    def test_abandoning_needs_a_reason(self, trust, active_project):
        with pytest.raises(QIValidationError, match="reason"):
            services.project_abandon(actor=trust.alice, project=active_project, reason="   ")

    def test_a_qi_lead_abandons_with_a_reason(
        self, trust, active_project, announced, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.project_abandon(actor=trust.olga, project=active_project, reason="Lead left the trust.")
        event = AuditEvent.objects.get(verb="project.abandoned")
        assert (event.actor, event.before["status"], event.after["status"]) == (trust.olga, "active", "abandoned")
        assert event.after["abandon_reason"] == "Lead left the trust."
        assert [name for name, _ in announced] == ["project_abandoned"]
        active_project.refresh_from_db()
        assert active_project.status == Project.Status.ABANDONED
        assert active_project.abandon_reason == "Lead left the trust."

    def test_a_closed_project_cannot_be_abandoned_or_edited(self, trust, active_project):
        services.project_abandon(actor=trust.alice, project=active_project, reason="No data access.")
        with pytest.raises(QITransitionError, match="abandoned"):
            services.project_abandon(actor=trust.alice, project=active_project, reason="again")
        with pytest.raises(QITransitionError):
            services.project_update(actor=trust.alice, project=active_project, title="New title")
        with pytest.raises(QITransitionError):
            services.project_member_add(actor=trust.alice, project=active_project, user=trust.dora)

    def test_the_team_edits_the_project(self, trust, project):
        services.project_update(actor=trust.bob, project=project, title="Faster ECGs in ED")
        project.refresh_from_db()
        assert project.title == "Faster ECGs in ED"
        event = AuditEvent.objects.get(verb="project.updated")
        assert event.before == {"title": "Faster ECGs for chest pain"} and event.after == {"title": "Faster ECGs in ED"}

    def test_only_editable_fields_can_be_changed(self, trust, project):
        with pytest.raises(QIValidationError, match="status"):
            services.project_update(actor=trust.alice, project=project, status="completed")

    def test_the_supervisor_cannot_edit(self, trust, project):
        with pytest.raises(QIPermissionError):
            services.project_update(actor=trust.sam, project=project, title="x")


# --- handover ---------------------------------------------------------------------------------


class TestHandover:
    def test_the_lead_hands_over_to_a_team_member(
        self, trust, active_project, announced, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            handover = services.project_hand_over(
                actor=trust.alice, project=active_project, successor=trust.bob, notes="Data is in the shared drive."
            )
        active_project.refresh_from_db()
        assert active_project.lead == trust.bob
        assert active_project.handover_notes == "Data is in the shared drive."
        assert (handover.from_lead, handover.to_lead, handover.handed_over_by) == (trust.alice, trust.bob, trust.alice)
        history = ProjectMembership.objects.filter(project=active_project).order_by("joined_at", "pk")
        assert [(m.user, m.role, m.left_at is None) for m in history] == [
            (trust.alice, "lead", False),
            (trust.bob, "member", False),
            (trust.bob, "lead", True),
        ]
        assert any(
            name == "project_handed_over" and kw["from_lead_id"] == trust.alice.pk and kw["to_lead_id"] == trust.bob.pk
            for name, kw in announced
        )
        # The old lead left the team, so may now be asked to review (if made supervisor).
        assert not ProjectMembership.objects.current().filter(project=active_project, user=trust.alice).exists()
        event = AuditEvent.objects.get(verb="project.handed_over")
        assert (event.actor, event.before, event.after) == (
            trust.alice,
            {"lead": trust.alice.pk},
            {"lead": trust.bob.pk},
        )

    def test_a_qi_lead_hands_over_an_orphaned_project(self, trust, active_project):
        services.project_hand_over(actor=trust.quinn, project=active_project, successor=trust.dora)
        active_project.refresh_from_db()
        assert active_project.lead == trust.dora
        assert Handover.objects.get().handed_over_by == trust.quinn

    def test_a_member_cannot_hand_over(self, trust, active_project):
        with pytest.raises(QIPermissionError):
            services.project_hand_over(actor=trust.bob, project=active_project, successor=trust.bob)

    def test_the_supervisor_cannot_become_lead(self, trust, active_project):
        with pytest.raises(QIValidationError, match="supervises"):
            services.project_hand_over(actor=trust.alice, project=active_project, successor=trust.sam)

    def test_handing_over_to_yourself_is_refused(self, trust, active_project):
        with pytest.raises(QIValidationError, match="already leads"):
            services.project_hand_over(actor=trust.alice, project=active_project, successor=trust.alice)

    def test_a_successor_from_another_trust_is_refused(self, trust, active_project):
        with pytest.raises(QIValidationError):
            services.project_hand_over(actor=trust.alice, project=active_project, successor=trust.charlie)
        assert active_project.lead == trust.alice


# --- milestones -------------------------------------------------------------------------------


class TestMilestoneWorkflow:
    def test_submit_then_approve(self, trust, active_project, announced, django_capture_on_commit_callbacks):
        milestone = active_project.milestones.first()
        with django_capture_on_commit_callbacks(execute=True):
            services.milestone_submit(actor=trust.bob, milestone=milestone, evidence="Agreed at governance meeting.")
            review = services.milestone_approve(actor=trust.sam, milestone=milestone, comment="Well done.")
        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.APPROVED
        assert milestone.submitted_by == trust.bob and milestone.decided_at == review.created_at
        assert (review.reviewer, review.decision, review.comment) == (trust.sam, "approved", "Well done.")
        verbs = list(AuditEvent.objects.filter(object_type="qi.milestone").values_list("verb", flat=True))
        assert verbs == ["milestone.submitted", "milestone.approved"]
        names = [name for name, _ in announced]
        assert names.count("milestone_submitted") == 1 and names.count("milestone_reviewed") == 1

    def test_changes_requested_then_resubmitted_then_approved(self, trust, active_project):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Draft aim.")
        services.milestone_request_changes(actor=trust.quinn, milestone=milestone, comment="Make the aim time-bound.")
        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.CHANGES_REQUESTED
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Aim with a date.")
        milestone.refresh_from_db()
        assert (milestone.status, milestone.decided_at) == (Milestone.Status.SUBMITTED, None)
        services.milestone_approve(actor=trust.sam, milestone=milestone)
        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.APPROVED
        assert list(milestone.reviews.values_list("decision", flat=True)) == ["changes_requested", "approved"]
        verbs = list(AuditEvent.objects.filter(object_type="qi.milestone").values_list("verb", flat=True))
        assert verbs == [
            "milestone.submitted",
            "milestone.changes_requested",
            "milestone.resubmitted",
            "milestone.approved",
        ]

    def test_submitting_needs_evidence(self, trust, active_project):
        milestone = active_project.milestones.first()
        with pytest.raises(QIValidationError, match="evidence"):
            services.milestone_submit(actor=trust.alice, milestone=milestone, evidence=" ")
        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.PLANNED

    def test_evidence_holding_an_nhs_number_is_refused(self, trust, active_project):
        milestone = active_project.milestones.first()
        with pytest.raises(QIValidationError) as caught:
            services.milestone_submit(actor=trust.alice, milestone=milestone, evidence=f"See {VALID_NHS_NUMBER}")
        assert "Evidence" in caught.value.field_errors["evidence"]
        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.PLANNED and milestone.evidence == ""

    def test_a_draft_projects_milestones_cannot_be_submitted(self, trust, project):
        with pytest.raises(QITransitionError, match="active project"):
            services.milestone_submit(actor=trust.alice, milestone=project.milestones.first(), evidence="x")

    def test_the_supervisor_cannot_submit(self, trust, active_project):
        with pytest.raises(QIPermissionError):
            services.milestone_submit(actor=trust.sam, milestone=active_project.milestones.first(), evidence="x")

    def test_a_submitted_milestone_cannot_be_submitted_again(self, trust, active_project):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        with pytest.raises(QITransitionError, match="submitted"):
            services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="y")

    def test_a_planned_milestone_cannot_be_reviewed(self, trust, active_project):
        with pytest.raises(QITransitionError, match="not waiting for review"):
            services.milestone_approve(actor=trust.sam, milestone=active_project.milestones.first())

    def test_an_approved_milestone_cannot_be_reviewed_again(self, trust, active_project):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        services.milestone_approve(actor=trust.sam, milestone=milestone)
        with pytest.raises(QITransitionError):
            services.milestone_request_changes(actor=trust.quinn, milestone=milestone, comment="Late thought")
        assert Review.objects.count() == 1

    def test_asking_for_changes_needs_a_comment(self, trust, active_project):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        with pytest.raises(QIValidationError, match="comment"):
            services.milestone_request_changes(actor=trust.sam, milestone=milestone, comment="")
        assert not Review.objects.exists()

    def test_an_unknown_decision_is_refused(self, trust, active_project):
        with pytest.raises(QIValidationError, match="Unknown decision"):
            services.milestone_review(actor=trust.sam, milestone=active_project.milestones.first(), decision="maybe")

    @pytest.mark.parametrize("reviewer", ["sam", "quinn", "olga"])
    def test_supervisor_and_qi_leads_in_scope_may_review(self, trust, active_project, reviewer):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        services.milestone_approve(actor=getattr(trust, reviewer), milestone=milestone)
        assert Review.objects.get().reviewer == getattr(trust, reviewer)

    @pytest.mark.parametrize("reviewer", ["ursula", "dora", "charlie"])
    def test_people_outside_the_project_cannot_even_find_it(self, trust, active_project, reviewer):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        with pytest.raises(QINotFoundError):
            services.milestone_approve(actor=getattr(trust, reviewer), milestone=milestone)
        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.SUBMITTED

    @pytest.mark.parametrize("member", ["alice", "bob"])
    def test_team_members_cannot_review_their_own_project(self, trust, active_project, member):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        with pytest.raises(QIPermissionError, match="on this project's team"):
            services.milestone_approve(actor=getattr(trust, member), milestone=milestone)

    def test_a_qi_lead_on_the_team_cannot_review_it(self, trust, active_project):
        services.project_member_add(actor=trust.alice, project=active_project, user=trust.quinn)
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        with pytest.raises(QIPermissionError, match="on this project's team"):
            services.milestone_approve(actor=trust.quinn, milestone=milestone)

    def test_the_team_adds_and_edits_milestones(self, trust, active_project):
        milestone = services.milestone_create(
            actor=trust.bob, project=active_project, title="Poster at regional meeting", due_on=dt.date(2027, 3, 1)
        )
        services.milestone_update(actor=trust.alice, milestone=milestone, due_on=dt.date(2027, 3, 8))
        milestone.refresh_from_db()
        assert milestone.due_on == dt.date(2027, 3, 8)
        event = AuditEvent.objects.get(verb="milestone.updated")
        assert event.before == {"due_on": "2027-03-01"} and event.after == {"due_on": "2027-03-08"}

    def test_the_team_cannot_make_milestones_optional_once_active(self, trust, active_project):
        milestone = active_project.milestones.filter(required=True).first()
        with pytest.raises(QITransitionError, match="settled when the project is activated"):
            services.milestone_update(actor=trust.alice, milestone=milestone, required=False)
        milestone.refresh_from_db()
        assert milestone.required

    def test_a_draft_plan_can_be_reshaped(self, trust, project):
        milestone = project.milestones.filter(required=True).first()
        services.milestone_update(actor=trust.alice, milestone=milestone, required=False)
        milestone.refresh_from_db()
        assert not milestone.required

    def test_a_submitted_milestone_cannot_be_edited(self, trust, active_project):
        milestone = active_project.milestones.first()
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        with pytest.raises(QITransitionError, match="no longer be edited"):
            services.milestone_update(actor=trust.alice, milestone=milestone, title="Changed")


# --- PDSA, measures and data ------------------------------------------------------------------


class TestPdsaAndData:
    def test_pdsa_cycles_are_numbered_in_order(self, trust, active_project):
        first = services.pdsa_cycle_create(
            actor=trust.alice, project=active_project, change_idea="ECG prompt at triage"
        )
        second = services.pdsa_cycle_create(
            actor=trust.bob, project=active_project, change_idea="ECG machine in triage"
        )
        assert (first.number, second.number) == (1, 2)
        services.pdsa_cycle_update(actor=trust.alice, cycle=first, study="Median fell to 12 minutes", act="adapt")
        first.refresh_from_db()
        assert first.act == "adapt"

    def test_a_pdsa_note_with_an_nhs_number_is_refused(self, trust, active_project):
        with pytest.raises(QIValidationError) as caught:
            services.pdsa_cycle_create(
                actor=trust.alice, project=active_project, change_idea="x", do_notes=f"Patient {VALID_NHS_NUMBER}"
            )
        assert "What happened" in caught.value.field_errors["do_notes"]

    def test_the_supervisor_cannot_record_pdsa(self, trust, active_project):
        with pytest.raises(QIPermissionError):
            services.pdsa_cycle_create(actor=trust.sam, project=active_project, change_idea="x")

    def test_data_points_are_added_all_together(self, trust, active_project):
        measure = services.measure_create(
            actor=trust.alice,
            project=active_project,
            name="ECG within 10 minutes",
            operational_definition="Chest pain arrivals with ECG within 10 min / all chest pain arrivals, weekly",
            better="up",
            unit="%",
        )
        rows = [
            {"date": dt.date(2026, 1, 5) + dt.timedelta(weeks=i), "numerator": 10 + i, "denominator": 40}
            for i in range(30)
        ]
        created = services.data_points_add(actor=trust.alice, measure=measure, rows=rows)
        assert len(created) == 30 == measure.data_points.count()
        assert AuditEvent.objects.get(verb="data_points.added").after["count"] == 30

    @pytest.mark.parametrize(
        ("bad_row", "message"),
        [
            ({"date": dt.date(2026, 6, 1), "numerator": 5, "denominator": 0}, "denominator must be more than 0"),
            ({"date": dt.date(2026, 6, 1), "numerator": 50, "denominator": 40}, "numerator cannot be larger"),
            ({"date": dt.date(2026, 6, 1)}, "give either a value"),
            ({"date": dt.date(2026, 6, 1), "value": 3, "numerator": 1, "denominator": 2}, "not both"),
            ({"date": dt.date(2026, 6, 1), "value": "lots"}, "not a number"),
            ({"date": dt.date(2026, 6, 1), "numerator": "five", "denominator": 10}, "not a whole number"),
            ({"date": dt.date(2026, 6, 1), "numerator": 2.5, "denominator": 10}, "not a whole number"),
            ({"date": "not a date", "value": 3}, "date"),
            ({"date": dt.date(2026, 1, 5), "value": 3}, "already a data point"),
            ({"date": dt.date(2026, 6, 1), "value": 3, "note": f"bed 4 {VALID_NHS_NUMBER}"}, "NHS number"),
        ],
    )
    def test_one_bad_row_saves_none_and_is_named(self, trust, active_project, bad_row, message):
        measure = services.measure_create(
            actor=trust.alice,
            project=active_project,
            name="Door to ECG",
            operational_definition="Minutes",
            better="down",
        )
        rows = [{"date": dt.date(2026, 1, 5) + dt.timedelta(weeks=i), "value": 20 - i / 2} for i in range(499)]
        rows.insert(123, bad_row)
        with pytest.raises(QIValidationError, match=message) as caught:
            services.data_points_add(actor=trust.alice, measure=measure, rows=rows)
        assert caught.value.message.startswith("Row 124:")
        assert measure.data_points.count() == 0
        assert not AuditEvent.objects.filter(verb="data_points.added").exists()

    def test_the_supervisor_cannot_enter_data(self, trust, active_project):
        measure = services.measure_create(
            actor=trust.alice,
            project=active_project,
            name="Door to ECG",
            operational_definition="Minutes",
            better="down",
        )
        with pytest.raises(QIPermissionError):
            services.data_points_add(actor=trust.sam, measure=measure, rows=[{"date": dt.date(2026, 1, 1), "value": 1}])


# --- editing measures, correcting and deleting data points ------------------------------------


class TestMeasureAndDataPointEdits:
    @pytest.fixture
    def measure(self, trust, active_project):
        return services.measure_create(
            actor=trust.alice,
            project=active_project,
            name="Door to ECG",
            operational_definition="Median minutes, weekly",
            better="down",
        )

    @pytest.fixture
    def point(self, trust, measure):
        (point,) = services.data_points_add(
            actor=trust.alice, measure=measure, rows=[{"date": dt.date(2026, 1, 5), "value": 22}]
        )
        return point

    def test_the_team_edits_a_measure_and_the_change_is_audited(self, trust, measure):
        services.measure_update(actor=trust.bob, measure=measure, name=" Door to ECG (median) ", target=10)
        measure.refresh_from_db()
        assert (measure.name, measure.target) == ("Door to ECG (median)", 10)
        event = AuditEvent.objects.get(verb="measure.updated")
        assert event.before == {"name": "Door to ECG", "target": None}
        assert event.after == {"name": "Door to ECG (median)", "target": "10"}

    def test_measure_edits_are_refused(self, trust, active_project, measure):
        with pytest.raises(QIPermissionError):
            services.measure_update(actor=trust.sam, measure=measure, unit="minutes")
        with pytest.raises(QINotFoundError):
            services.measure_update(actor=trust.dora, measure=measure, unit="minutes")
        with pytest.raises(QIValidationError, match="cannot be edited"):
            services.measure_update(actor=trust.alice, measure=measure, project=active_project)
        with pytest.raises(QIValidationError) as caught:
            services.measure_update(actor=trust.alice, measure=measure, operational_definition=VALID_NHS_NUMBER)
        assert set(caught.value.field_errors) == {"operational_definition"}
        services.project_abandon(actor=trust.alice, project=active_project, reason="Rotated out.")
        with pytest.raises(QITransitionError):
            services.measure_update(actor=trust.alice, measure=measure, unit="minutes")
        assert not AuditEvent.objects.filter(verb="measure.updated").exists()

    def test_a_point_is_corrected_by_the_same_rules_as_a_new_row(self, trust, point):
        with pytest.raises(QIValidationError, match="not both"):
            services.data_point_update(actor=trust.alice, point=point, numerator=3, denominator=4)
        with pytest.raises(QIValidationError, match="cannot be larger"):
            services.data_point_update(actor=trust.alice, point=point, value=None, numerator=5, denominator=4)
        with pytest.raises(QIValidationError) as caught:
            services.data_point_update(actor=trust.alice, point=point, note=f"bed 3 {VALID_NHS_NUMBER}")
        assert set(caught.value.field_errors) == {"note"}
        services.data_point_update(actor=trust.alice, point=point, value=None, numerator=3, denominator=4)
        point.refresh_from_db()
        assert (point.value, point.numerator, point.denominator) == (None, 3, 4)
        event = AuditEvent.objects.get(verb="data_point.updated")
        assert event.after == {"value": None, "numerator": 3, "denominator": 4}

    def test_a_point_cannot_move_onto_a_date_that_has_one(self, trust, measure, point):
        services.data_points_add(actor=trust.alice, measure=measure, rows=[{"date": dt.date(2026, 1, 12), "value": 1}])
        with pytest.raises(QIValidationError) as caught:
            services.data_point_update(actor=trust.alice, point=point, date=dt.date(2026, 1, 12))
        assert set(caught.value.field_errors) == {"date"}
        services.data_point_update(actor=trust.alice, point=point, date=dt.date(2026, 1, 5))  # its own date is fine

    def test_the_team_deletes_a_point_and_the_deletion_is_audited(self, trust, active_project, point):
        services.data_point_delete(actor=trust.bob, point=point)
        assert not active_project.measures.get().data_points.exists()
        event = AuditEvent.objects.get(verb="data_point.deleted")
        assert (event.object_id, event.project_id, event.before["value"]) == (
            str(point.pk),
            active_project.pk,
            "22.0000",
        )
        with pytest.raises(QINotFoundError):
            services.data_point_delete(actor=trust.bob, point=point)  # already gone

    def test_point_deletion_is_refused(self, trust, active_project, point):
        with pytest.raises(QIPermissionError):
            services.data_point_delete(actor=trust.sam, point=point)
        with pytest.raises(QINotFoundError):
            services.data_point_delete(actor=trust.charlie, point=point)
        services.project_abandon(actor=trust.alice, project=active_project, reason="Rotated out.")
        with pytest.raises(QITransitionError):
            services.data_point_delete(actor=trust.alice, point=point)
        assert active_project.measures.get().data_points.count() == 1


class TestProfileAndPlacements:
    def place(self, trust, actor, **changes):
        fields = {
            "doctor": trust.bob,
            "department": trust.cardiology,
            "starts_on": dt.date(2030, 2, 6),
            "ends_on": dt.date(2030, 8, 6),
            "clinical_supervisor": trust.sam,
            **changes,
        }
        return services.placement_create(actor=actor, **fields)

    def test_a_doctor_changes_their_profile_and_it_is_audited(self, trust):
        services.profile_update(actor=trust.alice, full_name=" Alice Jones ", gmc_number="7654321")
        trust.alice.refresh_from_db()
        assert (trust.alice.full_name, trust.alice.gmc_number) == ("Alice Jones", "7654321")
        event = AuditEvent.objects.get(verb="user.profile_updated")
        assert (event.actor, event.project, event.after["gmc_number"]) == (trust.alice, None, "7654321")

    @pytest.mark.parametrize(
        ("changes", "field"),
        [({"gmc_number": "123"}, "gmc_number"), ({"grade": "FY9"}, "grade"), ({"full_name": ""}, "full_name")],
    )
    def test_an_invalid_profile_names_the_field_and_saves_nothing(self, trust, changes, field):
        before = trust.alice.full_name, trust.alice.grade, trust.alice.gmc_number
        with pytest.raises(QIValidationError) as refused:
            services.profile_update(actor=trust.alice, **changes)
        assert set(refused.value.field_errors) == {field}
        trust.alice.refresh_from_db()
        assert (trust.alice.full_name, trust.alice.grade, trust.alice.gmc_number) == before

    def test_a_gmc_number_is_one_persons(self, trust):
        with pytest.raises(QIValidationError) as refused:
            services.profile_update(actor=trust.alice, gmc_number=trust.bob.gmc_number)
        assert "Another account" in refused.value.field_errors["gmc_number"]

    def test_only_name_grade_and_gmc_number_are_editable(self, trust):
        with pytest.raises(QIValidationError):
            services.profile_update(actor=trust.alice, email="a@example.com")

    def test_a_qi_lead_adds_a_placement_and_it_is_audited(self, trust):
        placement = self.place(trust, trust.quinn)
        assert (placement.doctor, placement.clinical_supervisor) == (trust.bob, trust.sam)
        event = AuditEvent.objects.get(verb="placement.created")
        assert (event.actor, event.project, event.after["doctor"]) == (trust.quinn, None, trust.bob.pk)

    @pytest.mark.parametrize("person", ["ursula", "sam", "bob", "charlie"])
    def test_others_may_not_add_placements(self, trust, person):
        with pytest.raises(QIPermissionError):
            self.place(trust, getattr(trust, person))
        assert not trust.bob.placements.exists()

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"clinical_supervisor": "charlie"}, "clinical_supervisor"),  # another trust
            ({"doctor": "charlie"}, "doctor"),
            ({"educational_supervisor": "bob"}, "educational_supervisor"),  # the doctor themself
            ({"ends_on": dt.date(2030, 2, 5)}, "ends_on"),
        ],
    )
    def test_an_invalid_placement_names_the_field(self, trust, changes, field):
        changes = {k: getattr(trust, v) if isinstance(v, str) else v for k, v in changes.items()}
        with pytest.raises(QIValidationError) as refused:
            self.place(trust, trust.olga, **changes)
        assert set(refused.value.field_errors) == {field}
        assert not AuditEvent.objects.filter(verb="placement.created").exists()

    def test_an_inactive_doctor_and_a_second_start_on_the_same_day_are_refused(self, trust):
        self.place(trust, trust.quinn)
        with pytest.raises(QIValidationError) as refused:
            self.place(trust, trust.quinn, ends_on=dt.date(2030, 3, 1))
        assert set(refused.value.field_errors) == {"starts_on"}
        trust.dora.is_active = False
        trust.dora.save()
        with pytest.raises(QIValidationError) as refused:
            self.place(trust, trust.quinn, doctor=trust.dora)
        assert set(refused.value.field_errors) == {"doctor"}

    def test_moving_a_placement_needs_the_new_department_too(self, trust):
        placement = trust.alice.placements.get()
        with pytest.raises(QIPermissionError):
            services.placement_update(actor=trust.quinn, placement=placement, department=trust.surgery)
        services.placement_update(actor=trust.olga, placement=placement, department=trust.surgery)
        placement.refresh_from_db()
        assert placement.department == trust.surgery
        event = AuditEvent.objects.get(verb="placement.updated")
        assert (event.before, event.after) == ({"department": trust.cardiology.pk}, {"department": trust.surgery.pk})

    def test_a_placement_outside_my_view_is_not_found_and_the_doctor_stays(self, trust):
        placement = trust.alice.placements.get()
        with pytest.raises(QINotFoundError):
            services.placement_update(actor=trust.ursula, placement=placement, ends_on=placement.ends_on)
        with pytest.raises(QIPermissionError):
            services.placement_update(actor=trust.sam, placement=placement, ends_on=placement.ends_on)
        with pytest.raises(QIValidationError):
            services.placement_update(actor=trust.quinn, placement=placement, doctor=trust.bob)

    def test_a_qi_lead_deletes_a_placement_and_it_is_audited(self, trust):
        placement = trust.alice.placements.get()
        pk = placement.pk
        with pytest.raises(QIPermissionError):
            services.placement_delete(actor=trust.alice, placement=placement)
        services.placement_delete(actor=trust.quinn, placement=placement)
        assert not trust.alice.placements.exists()
        event = AuditEvent.objects.get(verb="placement.deleted")
        assert (event.object_id, event.before["doctor"]) == (str(pk), trust.alice.pk)


# --- one kind of figure per measure, plausible dates ------------------------------------------------


@pytest.mark.django_db
def test_a_measure_keeps_one_kind_of_figure(trust, active_project):
    measure = services.measure_create(
        actor=trust.alice, project=active_project, name="ECG in 10 minutes", operational_definition="d", better="up"
    )
    first = {"date": dt.date(2026, 1, 5), "numerator": 3, "denominator": 4}
    (point,) = services.data_points_add(actor=trust.alice, measure=measure, rows=[first])
    with pytest.raises(QIValidationError, match="Row 1: this measure's data points are numerators and denominators"):
        services.data_points_add(actor=trust.alice, measure=measure, rows=[{"date": dt.date(2026, 1, 12), "value": 5}])
    mixed = [
        {"date": dt.date(2026, 1, 19), "numerator": 1, "denominator": 2},
        {"date": dt.date(2026, 1, 26), "value": 5},
    ]
    with pytest.raises(QIValidationError, match="Row 2: "):
        services.data_points_add(actor=trust.alice, measure=measure, rows=mixed)
    assert measure.data_points.count() == 1
    # The only point may switch kind; with a second point it may not.
    services.data_point_update(actor=trust.alice, point=point, value=Decimal("5"), numerator=None, denominator=None)
    services.data_points_add(actor=trust.alice, measure=measure, rows=[{"date": dt.date(2026, 1, 12), "value": 6}])
    with pytest.raises(QIValidationError, match="This measure's data points are values"):
        services.data_point_update(actor=trust.alice, point=point, value=None, numerator=1, denominator=2)


@pytest.mark.django_db
@pytest.mark.parametrize("day", [dt.date(9999, 12, 31), dt.date(1899, 12, 31)])
def test_a_data_point_date_must_be_plausible(trust, active_project, day):
    measure = services.measure_create(
        actor=trust.alice, project=active_project, name="Minutes to ECG", operational_definition="d", better="down"
    )
    with pytest.raises(QIValidationError, match="not a plausible date"):
        services.data_points_add(actor=trust.alice, measure=measure, rows=[{"date": day, "value": 5}])
    assert not measure.data_points.exists()


@pytest.mark.django_db
def test_stored_phases_are_dates_and_at_most_fifty(trust, active_project):
    measure = services.measure_create(
        actor=trust.alice, project=active_project, name="Minutes to ECG", operational_definition="d", better="down"
    )
    many = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(51)]
    with pytest.raises(QIValidationError, match="At most 50 phases"):
        services.measure_update(actor=trust.alice, measure=measure, phase_starts=many)
    with pytest.raises(QIValidationError, match="is not a date"):
        services.measure_update(actor=trust.alice, measure=measure, phase_starts=["2026-02-30"])
    services.measure_update(actor=trust.alice, measure=measure, phase_starts=[dt.date(2026, 3, 2), "2026-01-05"])
    measure.refresh_from_db()
    assert measure.phase_starts == ["2026-01-05", "2026-03-02"]
