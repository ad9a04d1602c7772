"""Who hears about each workflow event qi announces, and what they are told.

Each function takes the ids the event carried, loads what it needs in a few queries (nothing, if
the object was deleted before the task ran) and
returns ``Message``s keyed by the event's AuditEvent id, so a retried task posts nothing twice.
Nobody is told about their own action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from notifications.models import Kind
from notifications.outbox import Message
from qi.models import Handover, Milestone, Project, ProjectMembership, Review, User


def _team_ids(project_id: int) -> list[int]:
    return list(ProjectMembership.objects.current().filter(project_id=project_id).values_list("user_id", flat=True))


def _to(recipients: Iterable[int | None], actor_id: int | None, make: Callable[[int], Message]) -> list[Message]:
    seen: set[int] = set()
    messages = []
    for user_id in recipients:
        if user_id is None or user_id == actor_id or user_id in seen:
            continue
        seen.add(user_id)
        messages.append(make(user_id))
    return messages


def _name(user_id: int | None) -> str:
    if user_id is None:
        return "Someone"
    user = User.objects.filter(pk=user_id).only("full_name", "email").first()
    return str(user) if user else "Someone"


def milestone_submitted(*, audit_event_id: int, milestone_id: int, actor_id: int, **_: Any) -> list[Message]:
    milestone = Milestone.objects.select_related("project__supervisor").filter(pk=milestone_id).first()
    if milestone is None:  # deleted before the task ran: nothing to say
        return []
    project = milestone.project
    who = _name(actor_id)
    return _to(
        [project.supervisor_id],
        actor_id,
        lambda user_id: Message(
            recipient_id=user_id,
            kind=Kind.MILESTONE_SUBMITTED,
            key=f"event:{audit_event_id}",
            title=f"{who} submitted “{milestone.title}” for your review",
            body=f"{project.title}: {who} submitted this milestone with evidence.\n\n{milestone.evidence}",
            project_id=project.pk,
        ),
    )


def milestone_reviewed(*, audit_event_id: int, review_id: int, actor_id: int, **_: Any) -> list[Message]:
    review = Review.objects.select_related("milestone__project", "reviewer").filter(pk=review_id).first()
    if review is None:
        return []
    milestone, project = review.milestone, review.milestone.project
    approved = review.decision == Review.Decision.APPROVED
    kind = Kind.MILESTONE_APPROVED if approved else Kind.MILESTONE_CHANGES_REQUESTED
    verb = "approved" if approved else "asked for changes to"
    body = f"{project.title}: {review.reviewer} {verb} this milestone."
    if review.comment:
        body += f"\n\nComment from {review.reviewer}: {review.comment}"
    return _to(
        _team_ids(project.pk),
        actor_id,
        lambda user_id: Message(
            recipient_id=user_id,
            kind=kind,
            key=f"event:{audit_event_id}",
            title=f"{review.reviewer} {verb} “{milestone.title}”",
            body=body,
            project_id=project.pk,
        ),
    )


def supervisor_assigned(
    *, audit_event_id: int, project_id: int, supervisor_id: int, actor_id: int, **_: Any
) -> list[Message]:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return []
    who = _name(actor_id)
    return _to(
        [supervisor_id],
        actor_id,
        lambda user_id: Message(
            recipient_id=user_id,
            kind=Kind.SUPERVISOR_ASSIGNED,
            key=f"event:{audit_event_id}",
            title=f"You are now supervising “{project.title}”",
            body=f"{who} named you as supervisor. You will review its milestones.\n\nAim: {project.aim}",
            project_id=project.pk,
        ),
    )


def member_added(*, audit_event_id: int, project_id: int, user_id: int, actor_id: int, **_: Any) -> list[Message]:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return []
    who = _name(actor_id)
    return _to(
        [user_id],
        actor_id,
        lambda recipient_id: Message(
            recipient_id=recipient_id,
            kind=Kind.MEMBER_ADDED,
            key=f"event:{audit_event_id}",
            title=f"{who} added you to “{project.title}”",
            body=f"Aim: {project.aim}",
            project_id=project.pk,
        ),
    )


def project_handed_over(
    *, audit_event_id: int, project_id: int, handover_id: int, actor_id: int, **_: Any
) -> list[Message]:
    handover = Handover.objects.select_related("project", "from_lead", "to_lead").filter(pk=handover_id).first()
    if handover is None:
        return []
    project = handover.project
    notes = f"\n\nHandover notes: {handover.notes}" if handover.notes else ""
    return _to(
        [handover.from_lead_id, handover.to_lead_id],
        actor_id,
        lambda user_id: Message(
            recipient_id=user_id,
            kind=Kind.PROJECT_HANDED_OVER,
            key=f"event:{audit_event_id}",
            title=(
                f"You now lead “{project.title}”"
                if user_id == handover.to_lead_id
                else f"“{project.title}” was handed over to {handover.to_lead}"
            ),
            body=f"{handover.from_lead} handed the project over to {handover.to_lead}.{notes}",
            project_id=project.pk,
        ),
    )


def project_completed(*, audit_event_id: int, project_id: int, actor_id: int, **_: Any) -> list[Message]:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return []
    return _to(
        [*_team_ids(project_id), project.supervisor_id],
        actor_id,
        lambda user_id: Message(
            recipient_id=user_id,
            kind=Kind.PROJECT_COMPLETED,
            key=f"event:{audit_event_id}",
            title=f"“{project.title}” is complete",
            body=f"Outcome: {project.outcome_summary}\n\nLessons learned: {project.lessons_learned}",
            project_id=project.pk,
        ),
    )


HANDLERS: dict[str, Callable[..., list[Message]]] = {
    "milestone_submitted": milestone_submitted,
    "milestone_reviewed": milestone_reviewed,
    "supervisor_assigned": supervisor_assigned,
    "member_added": member_added,
    "project_handed_over": project_handed_over,
    "project_completed": project_completed,
}
