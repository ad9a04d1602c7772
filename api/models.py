"""Tables of the API: device tokens (knox, stored hashed) and tombstones of deleted rows for syncing clients."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from knox.models import AbstractAuthToken


class DeviceToken(AbstractAuthToken):
    """One logged-in device: knox keeps only the token's hash; the name lets a person tell devices apart."""

    device_name = models.CharField(max_length=100, blank=True, help_text="e.g. Alice's iPhone")

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.device_name or 'device'} of {self.user} ({self.token_key})"


class Tombstone(models.Model):
    """A row that was deleted, so a client syncing with ``updated_since`` can drop its copy.

    There is no foreign key: the thing it names is gone. Children of a project carry the
    project's id (scoped like the project); projects, departments and placements carry their
    organisation; a user's own rows (notifications) carry the user.
    """

    resource = models.CharField(max_length=40, help_text="The API resource, e.g. milestones")
    object_id = models.BigIntegerField()
    project_id = models.BigIntegerField(null=True, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deleted_at", "pk"]
        indexes = [
            models.Index(fields=["deleted_at"], name="tombstone_deleted_at"),
            models.Index(fields=["project_id", "deleted_at"], name="tombstone_project"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(project_id__isnull=False) | Q(organisation_id__isnull=False) | Q(user_id__isnull=False),
                name="tombstone_has_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.object_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"
