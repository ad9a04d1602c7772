"""Write a Tombstone whenever a row a client may hold is deleted, whatever deleted it (API, admin, cascade).

Receivers of ``post_delete``: every deleted object of a cascade is recorded, so a client that
missed the deletion of a measure also learns its data points are gone.
"""

from __future__ import annotations

from django.db.models.signals import post_delete

from api.models import Tombstone
from notifications.models import Notification
from qi.models import (
    DataPoint,
    Department,
    Measure,
    Milestone,
    PDSACycle,
    Placement,
    Project,
    ProjectMembership,
    Review,
)

# model -> (API resource name, how to find the scope of a deleted instance)
PROJECT_CHILDREN = {
    Milestone: ("milestones", lambda m: m.project_id),
    PDSACycle: ("pdsa-cycles", lambda c: c.project_id),
    Measure: ("measures", lambda m: m.project_id),
    ProjectMembership: ("members", lambda m: m.project_id),
}


def _child_deleted(sender, instance, **kwargs) -> None:
    resource, project_of = PROJECT_CHILDREN[sender]
    Tombstone.objects.create(resource=resource, object_id=instance.pk, project_id=project_of(instance))


def _review_deleted(sender, instance: Review, **kwargs) -> None:
    project_id = Milestone.objects.filter(pk=instance.milestone_id).values_list("project_id", flat=True).first()
    if project_id is not None:  # a cascade from the project: the project's own tombstone covers it
        Tombstone.objects.create(resource="reviews", object_id=instance.pk, project_id=project_id)


def _data_point_deleted(sender, instance: DataPoint, **kwargs) -> None:
    project_id = Measure.objects.filter(pk=instance.measure_id).values_list("project_id", flat=True).first()
    if project_id is not None:
        Tombstone.objects.create(resource="data-points", object_id=instance.pk, project_id=project_id)


def _project_deleted(sender, instance: Project, **kwargs) -> None:
    organisation_id = Department.objects.filter(pk=instance.department_id).values_list("organisation_id", flat=True)
    Tombstone.objects.create(resource="projects", object_id=instance.pk, organisation_id=organisation_id.first())


def _placement_deleted(sender, instance: Placement, **kwargs) -> None:
    """One tombstone for the organisation's QI leads, and one for each person the placement named."""
    organisation_id = Department.objects.filter(pk=instance.department_id).values_list("organisation_id", flat=True)
    people = {instance.doctor_id, instance.educational_supervisor_id, instance.clinical_supervisor_id} - {None}
    Tombstone.objects.bulk_create(
        [Tombstone(resource="placements", object_id=instance.pk, organisation_id=organisation_id.first())]
        + [Tombstone(resource="placements", object_id=instance.pk, user_id=person) for person in sorted(people)]
    )


def _department_deleted(sender, instance: Department, **kwargs) -> None:
    Tombstone.objects.create(resource="departments", object_id=instance.pk, organisation_id=instance.organisation_id)


def _notification_deleted(sender, instance: Notification, **kwargs) -> None:
    Tombstone.objects.create(resource="notifications", object_id=instance.pk, user_id=instance.recipient_id)


def connect() -> None:
    for model in PROJECT_CHILDREN:
        post_delete.connect(_child_deleted, sender=model, dispatch_uid=f"tombstone-{model._meta.label_lower}")
    post_delete.connect(_review_deleted, sender=Review, dispatch_uid="tombstone-review")
    post_delete.connect(_data_point_deleted, sender=DataPoint, dispatch_uid="tombstone-datapoint")
    post_delete.connect(_project_deleted, sender=Project, dispatch_uid="tombstone-project")
    post_delete.connect(_placement_deleted, sender=Placement, dispatch_uid="tombstone-placement")
    post_delete.connect(_department_deleted, sender=Department, dispatch_uid="tombstone-department")
    post_delete.connect(_notification_deleted, sender=Notification, dispatch_uid="tombstone-notification")
