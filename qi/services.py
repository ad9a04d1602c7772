"""Every write in the QI domain: projects, team, milestones and their reviews, PDSA, measures.

Each service is keyword-only, atomic, checks who may act (``qi.access``) and what state
allows, validates before saving, writes an ``AuditEvent`` and announces a domain event
after commit. A refused action raises ``QIError`` (one of its kinds) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from qi import access, csv_import, events
from qi.errors import QINotFoundError, QIPermissionError, QITransitionError, QIValidationError
from qi.milestone_plans import dated_plan
from qi.models import (
    AuditEvent,
    DataPoint,
    Department,
    Handover,
    Measure,
    Milestone,
    PDSACycle,
    Placement,
    Project,
    ProjectMembership,
    Review,
    Topic,
    User,
    current_placement,
    today,
)

DEFAULT_PROJECT_DAYS = 120
MINIMUM_PLAN_DAYS = 28
OPEN_STATUSES = (Project.Status.DRAFT, Project.Status.ACTIVE)

# --- helpers ---------------------------------------------------------------------------------


def _validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run model validation (fields, patient data guard, constraints) and raise QIValidationError."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        field_errors = {field: " ".join(str(m) for m in messages) for field, messages in exc.message_dict.items()}
        raise QIValidationError(" ".join(field_errors.values()), field_errors=field_errors) from None


def _json(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def _snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _json(getattr(instance, name)) for name in fields}


def _audit(
    *,
    actor: User | None,
    verb: str,
    obj: models.Model,
    project: Project | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        project=project,
        before=dict(before or {}),
        after=dict(after or {}),
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise QIPermissionError(message)


def _require_visible(actor: User, project: Project) -> None:
    """Refuse as 'not found' anyone who may not see the project, so its existence does not leak."""
    if not access.can_view_project(actor, project):
        raise QINotFoundError("No such project.")


def _require_active_account(person: User, field: str) -> None:
    if not person.is_active:
        raise QIValidationError(f"{person} has no active account.", field_errors={field: "Inactive account."})


def _require_open(project: Project, action: str) -> None:
    if project.status not in OPEN_STATUSES:
        raise QITransitionError(f"This project is {project.get_status_display().lower()}: you cannot {action}.")


def _require_same_organisation(person: User, project_or_department: Project | Department, what: str) -> None:
    department = (
        project_or_department if isinstance(project_or_department, Department) else project_or_department.department
    )
    if person.organisation_id != department.organisation_id:
        raise QIValidationError(
            f"{person} is not in {department.organisation}: the {what} must work in the same organisation.",
            field_errors={what: "Must belong to the same organisation as the project."},
        )


def _lock_project(project_id: int) -> None:
    """Lock a project's row before one of its children's, always in that order, so transitions queue."""
    list(Project.objects.select_for_update(of=("self",)).filter(pk=project_id).values_list("pk"))


def _touch(project: Project) -> None:
    """Move the project's updated_at, so syncing clients of people who just gained access fetch it."""
    project.save(update_fields=["updated_at"])


def _locked(project: Project) -> Project:
    """Re-read the project under a row lock so concurrent transitions queue behind each other."""
    return Project.objects.select_for_update(of=("self",)).select_related("department").get(pk=project.pk)


# --- projects --------------------------------------------------------------------------------

PROJECT_EDITABLE_FIELDS = (
    "title",
    "problem",
    "aim",
    "method",
    "ends_on",
    "seeking_team_members",
    "outcome_summary",
    "lessons_learned",
    "sustainability_notes",
    "handover_notes",
)


@transaction.atomic
def project_create(
    *,
    actor: User,
    department: Department,
    title: str,
    problem: str,
    aim: str,
    category: str = Project.Category.QI,
    method: str = Project.Method.MODEL_FOR_IMPROVEMENT,
    supervisor: User | None = None,
    topics: Sequence[Topic] = (),
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Project:
    """Start a draft project led by the actor, with a milestone plan that fits their placement.

    Without an explicit end date the project ends with the lead's current placement (or after
    four months without one). Without a supervisor, the placement's clinical (else educational)
    supervisor is proposed.
    """
    _require_same_organisation(actor, department, "lead")
    starts_on = starts_on or today()
    placement = current_placement(actor, starts_on)
    if ends_on is None:
        ends_on = placement.ends_on if placement else starts_on + dt.timedelta(days=DEFAULT_PROJECT_DAYS)
        ends_on = max(ends_on, starts_on + dt.timedelta(days=MINIMUM_PLAN_DAYS))
    if supervisor is None and placement is not None:
        supervisor = placement.clinical_supervisor or placement.educational_supervisor
        if supervisor is not None and supervisor.organisation_id != department.organisation_id:
            supervisor = None
    if supervisor is not None:
        _require_same_organisation(supervisor, department, "supervisor")
        if supervisor.pk == actor.pk:
            raise QIValidationError(
                "You cannot supervise your own project.", field_errors={"supervisor": "Choose someone else."}
            )

    project = Project(
        title=title.strip(),
        problem=problem.strip(),
        aim=aim.strip(),
        category=category,
        method=method,
        department=department,
        supervisor=supervisor,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _validate(project)
    project.save()
    project.topics.set(topics)
    ProjectMembership.objects.create(project=project, user=actor, role=ProjectMembership.Role.LEAD)
    Milestone.objects.bulk_create(
        Milestone(project=project, kind=step.kind, title=step.title, due_on=due_on, required=step.required)
        for step, due_on in dated_plan(category, starts_on, ends_on)
    )
    event = _audit(
        actor=actor,
        verb="project.created",
        obj=project,
        project=project,
        after=_snapshot(project, ("title", "category", "department", "supervisor", "status", "starts_on", "ends_on")),
    )
    events.announce(events.project_created, audit_event_id=event.pk, project_id=project.pk, actor_id=actor.pk)
    if supervisor is not None:
        events.announce(
            events.supervisor_assigned,
            audit_event_id=event.pk,
            project_id=project.pk,
            supervisor_id=supervisor.pk,
            previous_supervisor_id=None,
            actor_id=actor.pk,
        )
    return project


@transaction.atomic
def project_update(*, actor: User, project: Project, topics: Sequence[Topic] | None = None, **changes: Any) -> Project:
    """Edit a project's descriptive fields; only the team may, and only while it is open."""
    unknown = set(changes) - set(PROJECT_EDITABLE_FIELDS)
    if unknown:
        raise QIValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can edit the project.")
    _require_open(project, "edit it")
    before = _snapshot(project, changes)
    for name, value in changes.items():
        setattr(project, name, value.strip() if isinstance(value, str) else value)
    _validate(project)
    project.save()
    if topics is not None:
        project.topics.set(topics)
    _audit(
        actor=actor,
        verb="project.updated",
        obj=project,
        project=project,
        before=before,
        after=_snapshot(project, changes),
    )
    return project


@transaction.atomic
def project_member_add(*, actor: User, project: Project, user: User) -> ProjectMembership:
    """Add a doctor to the team."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_manage_team(actor, project), "Only the project lead or a QI lead can change the team.")
    _require_open(project, "change the team")
    _require_same_organisation(user, project, "member")
    _require_active_account(user, "user")
    if project.supervisor_id == user.pk:
        raise QIValidationError(
            f"{user} supervises this project: a supervisor cannot also be on the team.",
            field_errors={"user": "The supervisor cannot join the team."},
        )
    if ProjectMembership.objects.current().filter(project=project, user=user).exists():
        raise QIValidationError(f"{user} is already on the team.", field_errors={"user": "Already on the team."})
    membership = ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.MEMBER)
    _touch(project)  # the new member's next sync must pick the project up
    event = _audit(
        actor=actor,
        verb="project.member_added",
        obj=membership,
        project=project,
        after={"user": user.pk, "role": "member"},
    )
    events.announce(
        events.member_added, audit_event_id=event.pk, project_id=project.pk, user_id=user.pk, actor_id=actor.pk
    )
    return membership


@transaction.atomic
def project_member_remove(*, actor: User, project: Project, user: User) -> ProjectMembership:
    """Take a doctor off the team (members may also leave themselves); the history is kept."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(
        actor.pk == user.pk or access.can_manage_team(actor, project),
        "Only the project lead or a QI lead can change the team.",
    )
    _require_open(project, "change the team")
    membership = ProjectMembership.objects.current().filter(project=project, user=user).first()
    if membership is None:
        raise QIValidationError(f"{user} is not on the team.", field_errors={"user": "Not on the team."})
    if membership.role == ProjectMembership.Role.LEAD:
        raise QITransitionError("The lead cannot leave the team: hand the project over to a successor first.")
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_at"])
    event = _audit(
        actor=actor, verb="project.member_removed", obj=membership, project=project, before={"user": user.pk}
    )
    events.announce(
        events.member_removed, audit_event_id=event.pk, project_id=project.pk, user_id=user.pk, actor_id=actor.pk
    )
    return membership


@transaction.atomic
def project_supervisor_set(*, actor: User, project: Project, supervisor: User) -> Project:
    """Name the consultant who supervises the project and reviews its milestones."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_manage_team(actor, project), "Only the project lead or a QI lead can set the supervisor.")
    _require_open(project, "change the supervisor")
    _require_same_organisation(supervisor, project, "supervisor")
    _require_active_account(supervisor, "supervisor")
    if ProjectMembership.objects.current().filter(project=project, user=supervisor).exists():
        raise QIValidationError(
            f"{supervisor} is on the project team and cannot also supervise it.",
            field_errors={"supervisor": "A team member cannot supervise their own project."},
        )
    if project.supervisor_id == supervisor.pk:
        raise QIValidationError(
            f"{supervisor} already supervises this project.", field_errors={"supervisor": "No change."}
        )
    previous_id = project.supervisor_id
    project.supervisor = supervisor
    project.save(update_fields=["supervisor", "updated_at"])
    event = _audit(
        actor=actor,
        verb="project.supervisor_set",
        obj=project,
        project=project,
        before={"supervisor": previous_id},
        after={"supervisor": supervisor.pk},
    )
    events.announce(
        events.supervisor_assigned,
        audit_event_id=event.pk,
        project_id=project.pk,
        supervisor_id=supervisor.pk,
        previous_supervisor_id=previous_id,
        actor_id=actor.pk,
    )
    return project


def _set_status(project: Project, *, actor: User, verb: str, status: str, **fields: Any) -> AuditEvent:
    before = _snapshot(project, ("status", *fields))
    project.status = status
    for name, value in fields.items():
        setattr(project, name, value)
    _validate(project)
    project.save()
    return _audit(
        actor=actor,
        verb=verb,
        obj=project,
        project=project,
        before=before,
        after=_snapshot(project, ("status", *fields)),
    )


@transaction.atomic
def project_activate(*, actor: User, project: Project) -> Project:
    """Move a draft project to active, once it has a supervisor to review its milestones."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.is_lead(actor, project), "Only the project lead can activate the project.")
    if project.status != Project.Status.DRAFT:
        raise QITransitionError(
            f"Only a draft project can be activated; this one is {project.get_status_display().lower()}."
        )
    if project.supervisor_id is None:
        raise QITransitionError("Name a supervisor before activating the project: someone must review its milestones.")
    event = _set_status(project, actor=actor, verb="project.activated", status=Project.Status.ACTIVE)
    events.announce(events.project_activated, audit_event_id=event.pk, project_id=project.pk, actor_id=actor.pk)
    return project


@transaction.atomic
def project_complete(
    *, actor: User, project: Project, outcome_summary: str | None = None, lessons_learned: str | None = None
) -> Project:
    """Close an active project whose required milestones are all approved, with its outcome and lessons."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_complete(actor, project), "Only the project lead can complete the project.")
    if project.status != Project.Status.ACTIVE:
        raise QITransitionError(
            f"Only an active project can be completed; this one is {project.get_status_display().lower()}."
        )
    outcome = (outcome_summary if outcome_summary is not None else project.outcome_summary).strip()
    lessons = (lessons_learned if lessons_learned is not None else project.lessons_learned).strip()
    missing = {}
    if not outcome:
        missing["outcome_summary"] = "Describe the outcome before completing the project."
    if not lessons:
        missing["lessons_learned"] = "Record the lessons learned before completing the project."
    if missing:
        raise QIValidationError(" ".join(missing.values()), field_errors=missing)
    unapproved = list(
        project.milestones.filter(required=True)
        .exclude(status=Milestone.Status.APPROVED)
        .values_list("title", flat=True)
    )
    if unapproved:
        raise QITransitionError(
            f"{len(unapproved)} required milestone(s) still need approval: " + "; ".join(unapproved) + "."
        )
    if not project.milestones.filter(status=Milestone.Status.APPROVED).exists():
        raise QITransitionError("No milestone has been approved yet: a supervisor must approve the work first.")
    event = _set_status(
        project,
        actor=actor,
        verb="project.completed",
        status=Project.Status.COMPLETED,
        outcome_summary=outcome,
        lessons_learned=lessons,
        completed_at=timezone.now(),
    )
    events.announce(events.project_completed, audit_event_id=event.pk, project_id=project.pk, actor_id=actor.pk)
    return project


@transaction.atomic
def project_abandon(*, actor: User, project: Project, reason: str) -> Project:
    """Stop a project that will not be finished, saying why so others can learn from it."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_abandon(actor, project), "Only the project lead or a QI lead can abandon the project.")
    _require_open(project, "abandon it")
    reason = (reason or "").strip()
    if not reason:
        raise QIValidationError(
            "Give a reason for abandoning the project.", field_errors={"abandon_reason": "A reason is required."}
        )
    event = _set_status(
        project,
        actor=actor,
        verb="project.abandoned",
        status=Project.Status.ABANDONED,
        abandon_reason=reason,
        abandoned_at=timezone.now(),
    )
    events.announce(events.project_abandoned, audit_event_id=event.pk, project_id=project.pk, actor_id=actor.pk)
    return project


@transaction.atomic
def project_hand_over(*, actor: User, project: Project, successor: User, notes: str = "") -> Handover:
    """Pass the lead to a successor (usually at rotation); the old lead's membership is kept as history."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_hand_over(actor, project), "Only the project lead or a QI lead can hand the project over.")
    _require_open(project, "hand it over")
    _require_same_organisation(successor, project, "successor")
    _require_active_account(successor, "successor")
    if project.supervisor_id == successor.pk:
        raise QIValidationError(
            f"{successor} supervises this project and cannot also lead it.",
            field_errors={"successor": "The supervisor cannot lead the project."},
        )
    lead_membership = (
        ProjectMembership.objects.current()
        .filter(project=project, role=ProjectMembership.Role.LEAD)
        .select_related("user")
        .first()
    )
    if lead_membership is None:  # only possible after a data fix in the admin
        raise QITransitionError("This project has no current lead to hand over from: ask an administrator.")
    if lead_membership.user_id == successor.pk:
        raise QIValidationError(f"{successor} already leads this project.", field_errors={"successor": "No change."})
    handover = Handover(
        project=project,
        from_lead=lead_membership.user,
        to_lead=successor,
        handed_over_by=actor,
        notes=(notes or "").strip(),
    )
    _validate(handover)
    now = timezone.now()
    ProjectMembership.objects.current().filter(project=project, user__in=[successor, lead_membership.user]).update(
        left_at=now, updated_at=now
    )
    ProjectMembership.objects.create(project=project, user=successor, role=ProjectMembership.Role.LEAD, joined_at=now)
    handover.save()
    if handover.notes:
        project.handover_notes = handover.notes
    project.save(update_fields=["handover_notes", "updated_at"])  # the successor's next sync picks it up
    event = _audit(
        actor=actor,
        verb="project.handed_over",
        obj=project,
        project=project,
        before={"lead": lead_membership.user_id},
        after={"lead": successor.pk},
    )
    events.announce(
        events.project_handed_over,
        audit_event_id=event.pk,
        project_id=project.pk,
        handover_id=handover.pk,
        from_lead_id=lead_membership.user_id,
        to_lead_id=successor.pk,
        actor_id=actor.pk,
    )
    return handover


# --- people: profiles and placements ---------------------------------------------------------

PROFILE_EDITABLE_FIELDS = ("full_name", "grade", "gmc_number")
PLACEMENT_EDITABLE_FIELDS = ("department", "starts_on", "ends_on", "educational_supervisor", "clinical_supervisor")
PLACEMENT_PEOPLE = ("doctor", "educational_supervisor", "clinical_supervisor")
DUPLICATE_GMC = "Another account has this GMC number: check it, or ask an administrator to merge the accounts."
DUPLICATE_START = "This doctor already has a placement starting on this date."


@transaction.atomic
def profile_update(*, actor: User, **changes: Any) -> User:
    """Change one's own name, grade or GMC number."""
    unknown = set(changes) - set(PROFILE_EDITABLE_FIELDS)
    if unknown:
        raise QIValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if not changes:
        return actor  # nothing to save or to record
    user = User.objects.select_for_update().get(pk=actor.pk)
    before = _snapshot(user, changes)
    for name, value in changes.items():
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    # The unique constraint is conditional, so model validation would report it without naming the field.
    if user.gmc_number and User.objects.filter(gmc_number=user.gmc_number).exclude(pk=user.pk).exists():
        raise QIValidationError(DUPLICATE_GMC, field_errors={"gmc_number": DUPLICATE_GMC})
    _validate(user)
    try:
        with transaction.atomic():
            user.save(update_fields=list(changes))
    except IntegrityError:  # another account took the number since the check above
        raise QIValidationError(DUPLICATE_GMC, field_errors={"gmc_number": DUPLICATE_GMC}) from None
    _audit(
        actor=actor, verb="user.profile_updated", obj=user, project=None, before=before, after=_snapshot(user, changes)
    )
    for name in changes:  # the caller's object shows the change too
        setattr(actor, name, getattr(user, name))
    return user


def _validate_placement(placement: Placement, *, people: Iterable[str]) -> None:
    """Check what the database would refuse, with messages naming the field, then run model validation."""
    department = placement.department
    errors: dict[str, str] = {}
    for field in people:
        person = getattr(placement, field)
        if person is None:
            continue
        if person.organisation_id != department.organisation_id:
            errors[field] = f"{person} does not work in {department.organisation}."
        elif not person.is_active:
            errors[field] = f"{person} has no active account."
    for field in ("educational_supervisor", "clinical_supervisor"):
        if getattr(placement, f"{field}_id") is not None and getattr(placement, f"{field}_id") == placement.doctor_id:
            errors.setdefault(field, "A doctor cannot supervise their own placement.")
    if placement.ends_on < placement.starts_on:
        errors["ends_on"] = "A placement cannot end before it starts."
    elif (
        Placement.objects.filter(doctor_id=placement.doctor_id, starts_on=placement.starts_on)
        .exclude(pk=placement.pk)
        .exists()
    ):
        errors["starts_on"] = DUPLICATE_START
    if errors:
        raise QIValidationError(" ".join(errors.values()), field_errors=errors)
    _validate(placement)


def _save_placement(placement: Placement) -> None:
    try:
        with transaction.atomic():
            placement.save()
    except IntegrityError:  # the same doctor and start date, saved by someone else since the check
        raise QIValidationError(DUPLICATE_START, field_errors={"starts_on": DUPLICATE_START}) from None


def _locked_placement(actor: User, placement: Placement) -> Placement:
    """Re-read the placement under a row lock; one outside the actor's view is 'not found'."""
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("department__organisation", "doctor")
        .get(pk=placement.pk)
    )
    if not access.can_view_placement(actor, placement):
        raise QINotFoundError("No such placement.")
    return placement


@transaction.atomic
def placement_create(
    *,
    actor: User,
    doctor: User,
    department: Department,
    starts_on: dt.date,
    ends_on: dt.date,
    educational_supervisor: User | None = None,
    clinical_supervisor: User | None = None,
) -> Placement:
    """Record a doctor's rotation in a department; QI leads of the department or organisation only."""
    _require(
        access.can_manage_placements(actor, department),
        "Only a QI lead of the department or of the organisation can add its placements.",
    )
    placement = Placement(
        doctor=doctor,
        department=department,
        starts_on=starts_on,
        ends_on=ends_on,
        educational_supervisor=educational_supervisor,
        clinical_supervisor=clinical_supervisor,
    )
    _validate_placement(placement, people=PLACEMENT_PEOPLE)
    _save_placement(placement)
    _audit(
        actor=actor,
        verb="placement.created",
        obj=placement,
        project=None,
        after=_snapshot(placement, ("doctor", *PLACEMENT_EDITABLE_FIELDS)),
    )
    return placement


@transaction.atomic
def placement_update(*, actor: User, placement: Placement, **changes: Any) -> Placement:
    """Change a placement's department, dates or supervisors; the doctor stays the same."""
    unknown = set(changes) - set(PLACEMENT_EDITABLE_FIELDS)
    if unknown:
        raise QIValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    placement = _locked_placement(actor, placement)
    _require(
        access.can_manage_placements(actor, placement.department),
        "Only a QI lead of the department or of the organisation can change its placements.",
    )
    department = changes.get("department")
    if department is not None and not access.can_manage_placements(actor, department):
        raise QIPermissionError(
            "You can move a placement only to a department whose placements you manage.",
            field_errors={"department": "Not a department you are QI lead of."},
        )
    before = _snapshot(placement, changes)
    for name, value in changes.items():
        setattr(placement, name, value)
    # A new department may belong to another organisation than the people already named.
    people = PLACEMENT_PEOPLE if "department" in changes else [f for f in PLACEMENT_PEOPLE if f in changes]
    _validate_placement(placement, people=people)
    _save_placement(placement)
    _audit(
        actor=actor,
        verb="placement.updated",
        obj=placement,
        project=None,
        before=before,
        after=_snapshot(placement, changes),
    )
    return placement


@transaction.atomic
def placement_delete(*, actor: User, placement: Placement) -> None:
    """Delete a placement entered by mistake (syncing clients learn of it from its tombstone)."""
    placement = _locked_placement(actor, placement)
    _require(
        access.can_manage_placements(actor, placement.department),
        "Only a QI lead of the department or of the organisation can delete its placements.",
    )
    # Recorded first: once deleted, the placement has no id to name.
    _audit(
        actor=actor,
        verb="placement.deleted",
        obj=placement,
        project=None,
        before=_snapshot(placement, ("doctor", *PLACEMENT_EDITABLE_FIELDS)),
    )
    placement.delete()


# --- milestones ------------------------------------------------------------------------------

MILESTONE_EDITABLE_FIELDS = ("kind", "title", "description", "due_on", "required")
MILESTONE_OPEN_STATUSES = (Milestone.Status.PLANNED, Milestone.Status.CHANGES_REQUESTED)


def _locked_milestone(milestone: Milestone) -> Milestone:
    _lock_project(milestone.project_id)
    return Milestone.objects.select_for_update(of=("self",)).select_related("project__department").get(pk=milestone.pk)


@transaction.atomic
def milestone_create(
    *,
    actor: User,
    project: Project,
    title: str,
    due_on: dt.date,
    kind: str = Milestone.Kind.OTHER,
    description: str = "",
    required: bool = True,
) -> Milestone:
    """Add a milestone to the project's plan."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can add milestones.")
    _require_open(project, "add milestones")
    milestone = Milestone(
        project=project,
        title=title.strip(),
        due_on=due_on,
        kind=kind,
        description=description.strip(),
        required=required,
    )
    _validate(milestone)
    milestone.save()
    _audit(
        actor=actor,
        verb="milestone.created",
        obj=milestone,
        project=project,
        after=_snapshot(milestone, MILESTONE_EDITABLE_FIELDS),
    )
    return milestone


@transaction.atomic
def milestone_update(*, actor: User, milestone: Milestone, **changes: Any) -> Milestone:
    """Edit a milestone that is not waiting for review or approved."""
    unknown = set(changes) - set(MILESTONE_EDITABLE_FIELDS)
    if unknown:
        raise QIValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    milestone = _locked_milestone(milestone)
    _require_visible(actor, milestone.project)
    _require(access.can_edit_project(actor, milestone.project), "Only the project team can edit milestones.")
    _require_open(milestone.project, "edit its milestones")
    if milestone.status not in MILESTONE_OPEN_STATUSES:
        raise QITransitionError(
            f"This milestone is {milestone.get_status_display().lower()}: it can no longer be edited."
        )
    if "required" in changes and changes["required"] != milestone.required and milestone.project.status != "draft":
        raise QITransitionError(
            "Whether a milestone is required is settled when the project is activated: "
            "ask your supervisor or QI lead if the plan must change."
        )
    before = _snapshot(milestone, changes)
    for name, value in changes.items():
        setattr(milestone, name, value.strip() if isinstance(value, str) else value)
    _validate(milestone)
    milestone.save()
    _audit(
        actor=actor,
        verb="milestone.updated",
        obj=milestone,
        project=milestone.project,
        before=before,
        after=_snapshot(milestone, changes),
    )
    return milestone


@transaction.atomic
def milestone_submit(*, actor: User, milestone: Milestone, evidence: str, evidence_url: str = "") -> Milestone:
    """Submit (or, after changes were requested, resubmit) a milestone with its evidence for review."""
    milestone = _locked_milestone(milestone)
    project = milestone.project
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can submit milestones.")
    if project.status != Project.Status.ACTIVE:
        raise QITransitionError(
            "Milestones can be submitted only on an active project; "
            f"this one is {project.get_status_display().lower()}."
        )
    if milestone.status not in MILESTONE_OPEN_STATUSES:
        raise QITransitionError(
            f"This milestone is {milestone.get_status_display().lower()}: only a planned milestone or one sent back "
            "for changes can be submitted."
        )
    evidence = (evidence or "").strip()
    if not evidence:
        raise QIValidationError(
            "Describe the evidence for this milestone before submitting it.",
            field_errors={"evidence": "Evidence is required to submit a milestone."},
        )
    if project.supervisor_id is None:
        raise QITransitionError("This project has no supervisor to review the milestone: name one first.")
    verb = "milestone.resubmitted" if milestone.status == Milestone.Status.CHANGES_REQUESTED else "milestone.submitted"
    fields = ("status", "evidence", "evidence_url", "submitted_at", "submitted_by", "decided_at")
    before = _snapshot(milestone, fields)
    milestone.status = Milestone.Status.SUBMITTED
    milestone.evidence = evidence
    milestone.evidence_url = (evidence_url or "").strip()
    milestone.submitted_at = timezone.now()
    milestone.submitted_by = actor
    milestone.decided_at = None  # waiting for a new decision
    _validate(milestone)
    milestone.save()
    event = _audit(
        actor=actor, verb=verb, obj=milestone, project=project, before=before, after=_snapshot(milestone, fields)
    )
    events.announce(
        events.milestone_submitted,
        audit_event_id=event.pk,
        milestone_id=milestone.pk,
        project_id=project.pk,
        actor_id=actor.pk,
    )
    return milestone


@transaction.atomic
def milestone_review(*, actor: User, milestone: Milestone, decision: str, comment: str = "") -> Review:
    """Record a supervisor's or QI lead's decision on a submitted milestone."""
    if decision not in Review.Decision.values:
        raise QIValidationError(
            f"Unknown decision {decision!r}.", field_errors={"decision": "Choose approve or request changes."}
        )
    milestone = _locked_milestone(milestone)
    project = milestone.project
    _require_visible(actor, project)
    if access.is_on_team(actor, project):
        raise QIPermissionError("You are on this project's team, so you cannot review its milestones.")
    _require(
        access.can_review(actor, project),
        "Only the project's supervisor or a QI lead for its department can review it.",
    )
    if project.status != Project.Status.ACTIVE:
        raise QITransitionError(
            f"Milestones can be reviewed only on an active project; this one is {project.get_status_display().lower()}."
        )
    if milestone.status != Milestone.Status.SUBMITTED:
        raise QITransitionError(f"This milestone is {milestone.get_status_display().lower()}, not waiting for review.")
    comment = (comment or "").strip()
    if decision == Review.Decision.CHANGES_REQUESTED and not comment:
        raise QIValidationError(
            "Say what needs to change: a comment is required when asking for changes.",
            field_errors={"comment": "A comment is required when asking for changes."},
        )
    review = Review(milestone=milestone, reviewer=actor, decision=decision, comment=comment)
    _validate(review)
    review.save()
    before = _snapshot(milestone, ("status",))
    milestone.status = decision  # the decision values are the milestone statuses they lead to
    milestone.decided_at = review.created_at
    milestone.save(update_fields=["status", "decided_at", "updated_at"])
    event = _audit(
        actor=actor,
        verb=f"milestone.{decision}",
        obj=milestone,
        project=project,
        before=before,
        after={"status": milestone.status, "review": review.pk, "comment": comment},
    )
    events.announce(
        events.milestone_reviewed,
        audit_event_id=event.pk,
        milestone_id=milestone.pk,
        project_id=project.pk,
        review_id=review.pk,
        decision=decision,
        actor_id=actor.pk,
    )
    return review


def milestone_approve(*, actor: User, milestone: Milestone, comment: str = "") -> Review:
    """Approve a submitted milestone."""
    return milestone_review(actor=actor, milestone=milestone, decision=Review.Decision.APPROVED, comment=comment)


def milestone_request_changes(*, actor: User, milestone: Milestone, comment: str) -> Review:
    """Send a submitted milestone back to the team with a comment saying what to change."""
    return milestone_review(
        actor=actor, milestone=milestone, decision=Review.Decision.CHANGES_REQUESTED, comment=comment
    )


# --- PDSA cycles, measures and data ----------------------------------------------------------

PDSA_FIELDS = (
    "change_idea",
    "question",
    "prediction",
    "plan_who",
    "plan_what",
    "plan_when",
    "plan_where",
    "do_notes",
    "study",
    "act",
    "act_notes",
    "starts_on",
    "ends_on",
)


@transaction.atomic
def pdsa_cycle_create(*, actor: User, project: Project, change_idea: str, **fields: Any) -> PDSACycle:
    """Start the project's next PDSA cycle (numbered 1, 2, 3...)."""
    unknown = set(fields) - set(PDSA_FIELDS)
    if unknown:
        raise QIValidationError(f"Unknown PDSA fields: {', '.join(sorted(unknown))}.")
    project = _locked(project)  # the lock also serialises numbering
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can record PDSA cycles.")
    _require_open(project, "add PDSA cycles")
    number = (project.pdsa_cycles.aggregate(n=Max("number"))["n"] or 0) + 1
    cycle = PDSACycle(project=project, number=number, change_idea=change_idea, **fields)
    _validate(cycle)
    cycle.save()
    _audit(
        actor=actor, verb="pdsa.created", obj=cycle, project=project, after=_snapshot(cycle, ("number", *PDSA_FIELDS))
    )
    return cycle


@transaction.atomic
def pdsa_cycle_update(*, actor: User, cycle: PDSACycle, **changes: Any) -> PDSACycle:
    """Record what happened, the study and the decision of a PDSA cycle."""
    unknown = set(changes) - set(PDSA_FIELDS)
    if unknown:
        raise QIValidationError(f"Unknown PDSA fields: {', '.join(sorted(unknown))}.")
    _lock_project(cycle.project_id)
    cycle = PDSACycle.objects.select_for_update(of=("self",)).select_related("project__department").get(pk=cycle.pk)
    _require(access.can_edit_project(actor, cycle.project), "Only the project team can edit PDSA cycles.")
    _require_open(cycle.project, "edit its PDSA cycles")
    before = _snapshot(cycle, changes)
    for name, value in changes.items():
        setattr(cycle, name, value)
    _validate(cycle)
    cycle.save()
    _audit(
        actor=actor,
        verb="pdsa.updated",
        obj=cycle,
        project=cycle.project,
        before=before,
        after=_snapshot(cycle, changes),
    )
    return cycle


@transaction.atomic
def measure_create(
    *,
    actor: User,
    project: Project,
    name: str,
    operational_definition: str,
    better: str,
    kind: str = Measure.Kind.OUTCOME,
    unit: str = "",
    target: Decimal | None = None,
    chart_kind: str = "",
    baseline_points: int | None = None,
    phase_starts: Sequence[Any] = (),
) -> Measure:
    """Define a measure: what is counted, how, which direction is better, and how it is charted."""
    project = _locked(project)
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can add measures.")
    _require_open(project, "add measures")
    measure = Measure(
        project=project,
        name=name.strip(),
        operational_definition=operational_definition.strip(),
        better=better,
        kind=kind,
        unit=unit.strip(),
        target=target,
        chart_kind=chart_kind,
        baseline_points=baseline_points,
        phase_starts=_iso_dates(phase_starts),
    )
    _validate(measure)
    measure.save()
    _audit(
        actor=actor,
        verb="measure.created",
        obj=measure,
        project=project,
        after=_snapshot(measure, ("name", "kind", "unit", "better", "target")),
    )
    return measure


def _iso_dates(days: Any) -> Any:
    """Dates as ISO strings for a JSON field; anything else is left for the model's clean() to refuse."""
    if isinstance(days, list | tuple):
        return [day.isoformat() if isinstance(day, dt.date) else day for day in days]
    return days


def _whole_number(row: Mapping[str, Any], name: str) -> int | None:
    raw = row.get(name)
    if raw in (None, ""):
        return None
    if isinstance(raw, bool):
        raise ValueError(f"{name} {raw!r} is not a whole number")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"{name} {raw!r} is not a whole number") from None
    if number != number.to_integral_value() or number < 0:
        raise ValueError(f"{name} {raw!r} is not a whole number of 0 or more")
    return int(number)


def _data_point_from_row(measure: Measure, row: Mapping[str, Any]) -> DataPoint:
    unknown = set(row) - {"date", "value", "numerator", "denominator", "note", "pdsa_cycle"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
    value = row.get("value")
    if value not in (None, ""):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"value {row['value']!r} is not a number") from None
    else:
        value = None
    point = DataPoint(
        measure=measure,
        date=row.get("date"),
        value=value,
        numerator=_whole_number(row, "numerator"),
        denominator=_whole_number(row, "denominator"),
        note=(row.get("note") or "").strip(),
        pdsa_cycle=row.get("pdsa_cycle"),
    )
    if point.value is None and (point.numerator is None or point.denominator is None):
        raise ValueError("give either a value, or a numerator and a denominator")
    if point.value is not None and (point.numerator is not None or point.denominator is not None):
        raise ValueError("give a value or a numerator and denominator, not both")
    if point.denominator is not None and point.denominator <= 0:
        raise ValueError("the denominator must be more than 0")
    if point.numerator is not None and point.denominator is not None and point.numerator > point.denominator:
        raise ValueError("the numerator cannot be larger than the denominator")
    if point.pdsa_cycle is not None and point.pdsa_cycle.project_id != measure.project_id:
        raise ValueError("the PDSA cycle belongs to another project")
    if isinstance(point.date, dt.date) and not EARLIEST_DATA_DATE <= point.date <= LATEST_DATA_DATE:
        raise ValueError(
            f"{point.date.isoformat()} is not a plausible date for a data point "
            f"(between {EARLIEST_DATA_DATE.year} and {LATEST_DATA_DATE.year})"
        )
    return point


# Wide enough for any real series, narrow enough to catch a slip (31/12/9999) that no chart axis can draw.
EARLIEST_DATA_DATE, LATEST_DATA_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _other_kind_problem(measure_has_fractions: bool | None, point: DataPoint) -> str | None:
    """One measure, one kind of figure: its chart could not show 85 next to 17/20."""
    is_fraction = point.denominator is not None
    if measure_has_fractions is None or is_fraction == measure_has_fractions:
        return None
    if measure_has_fractions:
        return "this measure's data points are numerators and denominators, not values"
    return "this measure's data points are values, not numerators and denominators"


@transaction.atomic
def data_points_add(*, actor: User, measure: Measure, rows: Sequence[Mapping[str, Any]]) -> list[DataPoint]:
    """Add data points to a measure, all or none: the first bad row is named and nothing is saved."""
    _lock_project(measure.project_id)
    measure = Measure.objects.select_for_update(of=("self",)).select_related("project__department").get(pk=measure.pk)
    project = measure.project
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can enter data.")
    _require_open(project, "enter data")
    if not rows:
        raise QIValidationError("No data points were given.")
    existing = dict(measure.data_points.values_list("date", "denominator"))
    existing_dates = set(existing)
    has_fractions = next((denominator is not None for denominator in existing.values()), None)
    seen: set[dt.date] = set()
    points = []
    for number, row in enumerate(rows, start=1):
        try:
            point = _data_point_from_row(measure, row)
            point.full_clean(exclude=["measure", "pdsa_cycle"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise QIValidationError(f"Row {number}: {detail}", field_errors={f"rows[{number}]": detail}) from None
        except (ValueError, TypeError) as exc:
            raise QIValidationError(f"Row {number}: {exc}.", field_errors={f"rows[{number}]": str(exc)}) from None
        if point.date in existing_dates or point.date in seen:
            message = f"there is already a data point for {point.date:%d %b %Y}"
            raise QIValidationError(f"Row {number}: {message}.", field_errors={f"rows[{number}]": message})
        message = _other_kind_problem(has_fractions, point)
        if message:
            raise QIValidationError(f"Row {number}: {message}.", field_errors={f"rows[{number}]": message})
        has_fractions = point.denominator is not None
        seen.add(point.date)
        points.append(point)
    try:
        created = DataPoint.objects.bulk_create(points)
    except IntegrityError as exc:  # a concurrent writer beat us to a date
        raise QIValidationError(f"The data points could not be saved: {exc}") from None
    _audit(
        actor=actor,
        verb="data_points.added",
        obj=measure,
        project=project,
        after={"count": len(created), "from": str(min(seen)), "to": str(max(seen))},
    )
    return created


MEASURE_EDITABLE_FIELDS = (
    "name",
    "kind",
    "operational_definition",
    "unit",
    "better",
    "target",
    "chart_kind",
    "baseline_points",
    "phase_starts",
)


@transaction.atomic
def measure_update(*, actor: User, measure: Measure, **changes: Any) -> Measure:
    """Edit a measure's definition (name, kind, operational definition, unit, direction, target) or how it is
    charted (chart kind, baseline points, phase start dates)."""
    unknown = set(changes) - set(MEASURE_EDITABLE_FIELDS)
    if unknown:
        raise QIValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    _lock_project(measure.project_id)
    measure = Measure.objects.select_for_update(of=("self",)).select_related("project__department").get(pk=measure.pk)
    _require_visible(actor, measure.project)
    _require(access.can_edit_project(actor, measure.project), "Only the project team can edit measures.")
    _require_open(measure.project, "edit its measures")
    before = _snapshot(measure, changes)
    if "phase_starts" in changes:
        changes["phase_starts"] = _iso_dates(changes["phase_starts"])
    for name, value in changes.items():
        setattr(measure, name, value.strip() if isinstance(value, str) else value)
    _validate(measure)
    measure.save()
    _audit(
        actor=actor,
        verb="measure.updated",
        obj=measure,
        project=measure.project,
        before=before,
        after=_snapshot(measure, changes),
    )
    return measure


DATA_POINT_FIELDS = ("date", "value", "numerator", "denominator", "note", "pdsa_cycle")


def _locked_data_point(point: DataPoint) -> DataPoint:
    """Re-read the data point under its project's lock (project first, as everywhere)."""
    project_id = Measure.objects.filter(pk=point.measure_id).values_list("project_id", flat=True).first()
    if project_id is not None:
        _lock_project(project_id)
    locked = (
        DataPoint.objects.select_for_update(of=("self",))
        .select_related("measure__project__department", "pdsa_cycle")
        .filter(pk=point.pk)
        .first()
    )
    if locked is None:  # deleted meanwhile, by another request or with its measure
        raise QINotFoundError("No such data point.")
    return locked


@transaction.atomic
def data_point_update(*, actor: User, point: DataPoint, **changes: Any) -> DataPoint:
    """Correct one data point; a value and a numerator/denominator pair still exclude each other.

    To switch a point from a value to a fraction, send ``value=None`` with the numerator and denominator.
    """
    unknown = set(changes) - set(DATA_POINT_FIELDS)
    if unknown:
        raise QIValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    point = _locked_data_point(point)
    measure, project = point.measure, point.measure.project
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can correct data.")
    _require_open(project, "correct its data")
    # The changed point must pass the same checks as a new row, so the rules live in one place.
    row = {name: getattr(point, name) for name in DATA_POINT_FIELDS} | changes
    try:
        corrected = _data_point_from_row(measure, row)
        corrected.full_clean(exclude=["measure", "pdsa_cycle"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field_errors = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
        raise QIValidationError(" ".join(field_errors.values()), field_errors=field_errors) from None
    except (ValueError, TypeError) as exc:
        message = str(exc)
        raise QIValidationError(f"{message[:1].upper()}{message[1:]}.") from None
    if measure.data_points.filter(date=corrected.date).exclude(pk=point.pk).exists():
        message = f"There is already a data point for {corrected.date:%d %b %Y}."
        raise QIValidationError(message, field_errors={"date": message})
    others = measure.data_points.exclude(pk=point.pk)
    message = _other_kind_problem(
        others.filter(denominator__isnull=False).exists() if others.exists() else None, corrected
    )
    if message:
        raise QIValidationError(f"{message[:1].upper()}{message[1:]}.")
    before = _snapshot(point, changes)
    for name in DATA_POINT_FIELDS:
        setattr(point, name, getattr(corrected, name))
    point.save()
    _audit(
        actor=actor,
        verb="data_point.updated",
        obj=point,
        project=project,
        before=before,
        after=_snapshot(point, changes),
    )
    return point


@transaction.atomic
def data_point_delete(*, actor: User, point: DataPoint) -> None:
    """Delete one data point; syncing clients learn of it from its tombstone."""
    point = _locked_data_point(point)
    project = point.measure.project
    _require_visible(actor, project)
    _require(access.can_edit_project(actor, project), "Only the project team can delete data.")
    _require_open(project, "delete its data")
    # Recorded before the delete, while the point still has its id.
    _audit(
        actor=actor,
        verb="data_point.deleted",
        obj=point,
        project=project,
        before=_snapshot(point, ("measure", *DATA_POINT_FIELDS)),
    )
    point.delete()


# --- data from a CSV file --------------------------------------------------------------------


def _named_by_line(exc: QIValidationError, lines: Sequence[int]) -> QIValidationError:
    """``data_points_add``'s ``rows[N]`` (counted from 1) as the line of the file, ``line.<line>``."""
    problems = {}
    for name, message in exc.field_errors.items():
        if not (name.startswith("rows[") and name.endswith("]")):
            return exc
        problems[lines[int(name[5:-1]) - 1]] = f"{message.rstrip('.')}."
    return csv_import.line_errors(problems) if problems else exc


@transaction.atomic
def data_points_import(*, actor: User, measure: Measure, csv_text: str | bytes) -> list[DataPoint]:
    """Add a measure's data points from a CSV file (``qi.csv_import``), all or none; errors name the line.

    A date the measure already has a point for is an error, as is a file of values for a measure of
    numerators and denominators (or the other way round: ``data_points_add`` checks it).
    """
    _lock_project(measure.project_id)
    measure = Measure.objects.select_for_update(of=("self",)).select_related("project__department").get(pk=measure.pk)
    _require_visible(actor, measure.project)
    _require(access.can_edit_project(actor, measure.project), "Only the project team can import data.")
    _require_open(measure.project, "import data")
    parsed = csv_import.parse_csv(csv_text)
    existing = set(measure.data_points.values_list("date", flat=True))
    taken = {
        line: f"{row['date'].isoformat()} already has a data point; edit or delete it first."
        for row, line in zip(parsed.rows, parsed.lines, strict=True)
        if row["date"] in existing
    }
    if taken:
        raise csv_import.line_errors(taken)
    try:
        return data_points_add(actor=actor, measure=measure, rows=parsed.rows)
    except QIValidationError as exc:
        raise _named_by_line(exc, parsed.lines) from None
