"""Who may see and do what: the one set of rule functions the web pages and the API both call.

| who                                   | sees                         | may change                       |
| project lead and team                 | the whole project            | project, milestones, PDSA, data  |
| former team members                   | the whole project            | nothing                          |
| project supervisor                    | the whole project            | reviews milestones               |
| QI lead of the department/organisation| every project in scope       | reviews milestones; hands over   |
| anyone in the same organisation       | completed projects (library) | nothing                          |

Nobody reviews a milestone of a project they are on the team of. Lists are scoped by the
matching QuerySet methods (``Project.objects.visible_to``), never by checks after fetching.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from qi.models import Department, Milestone, Placement, Project, ProjectMembership, Role, User


def is_on_team(user: User, project: Project) -> bool:
    return user.is_authenticated and ProjectMembership.objects.current().filter(project=project, user=user).exists()


def is_lead(user: User, project: Project) -> bool:
    return (
        user.is_authenticated
        and ProjectMembership.objects.current()
        .filter(project=project, user=user, role=ProjectMembership.Role.LEAD)
        .exists()
    )


def is_qi_lead_for(user: User, project: Project) -> bool:
    """True if the user is QI lead of the project's department or of its whole organisation."""
    if not user.is_authenticated:
        return False
    department = project.department
    return Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD, department_id=department.pk).exists() or (
        Role.objects.filter(
            user=user, kind=Role.Kind.QI_LEAD, department__isnull=True, organisation_id=department.organisation_id
        ).exists()
    )


def was_ever_on_team(user: User, project: Project) -> bool:
    return user.is_authenticated and ProjectMembership.objects.filter(project=project, user=user).exists()


def can_view_project(user: User, project: Project) -> bool:
    """See the whole project: team (former members too, for their portfolio), supervisor, QI lead in scope."""
    if not user.is_authenticated:
        return False
    return project.supervisor_id == user.pk or was_ever_on_team(user, project) or is_qi_lead_for(user, project)


def can_view_in_library(user: User, project: Project) -> bool:
    """See a completed project's summary in the learning library: anyone in the same organisation."""
    return (
        user.is_authenticated
        and project.status == Project.Status.COMPLETED
        and user.organisation_id is not None
        and user.organisation_id == project.department.organisation_id
    )


def can_edit_project(user: User, project: Project) -> bool:
    """Change the project, its milestones (submit), PDSA cycles and data: the current team."""
    return is_on_team(user, project)


def can_manage_team(user: User, project: Project) -> bool:
    """Add or remove members and set the supervisor: the lead, or a QI lead in scope."""
    return is_lead(user, project) or is_qi_lead_for(user, project)


def can_review(user: User, project: Project) -> bool:
    """Review the project's milestones: its supervisor or a QI lead in scope, never a team member."""
    if not user.is_authenticated or is_on_team(user, project):
        return False
    return project.supervisor_id == user.pk or is_qi_lead_for(user, project)


def can_review_milestone(user: User, milestone: Milestone) -> bool:
    return can_review(user, milestone.project)


def can_hand_over(user: User, project: Project) -> bool:
    """Hand the project to a successor lead: the current lead, or a QI lead in scope."""
    return is_lead(user, project) or is_qi_lead_for(user, project)


def can_complete(user: User, project: Project) -> bool:
    return is_lead(user, project)


def can_abandon(user: User, project: Project) -> bool:
    return is_lead(user, project) or is_qi_lead_for(user, project)


def placements_visible_to(user: User) -> QuerySet[Placement]:
    """Placements a user sees: their own, those they supervise, and all in their scope as QI lead."""
    if not user.is_authenticated:
        return Placement.objects.none()
    leads = Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD)
    return Placement.objects.filter(
        Q(doctor=user)
        | Q(educational_supervisor=user)
        | Q(clinical_supervisor=user)
        | Q(department__in=leads.filter(department__isnull=False).values("department"))
        | Q(department__organisation__in=leads.filter(department__isnull=True).values("organisation"))
    )


def can_view_placement(user: User, placement: Placement) -> bool:
    return placements_visible_to(user).filter(pk=placement.pk).exists()


def can_manage_placements(user: User, department: Department) -> bool:
    """Create, change or delete placements in a department: its QI lead, or the organisation's."""
    if not user.is_authenticated:
        return False
    leads = Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD)
    return leads.filter(
        Q(department_id=department.pk) | Q(department__isnull=True, organisation_id=department.organisation_id)
    ).exists()
