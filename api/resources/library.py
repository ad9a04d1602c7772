"""What a person reads but never writes: the learning library, a project's audit trail, and the deletions feed.

The library is scoped by ``Project.objects.in_library_of`` and shows summary fields only; the audit trail
by ``Project.objects.visible_to``; the deletions feed lists the tombstones of rows a syncing client may hold.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from api.conditional import ConditionalRetrieveMixin
from api.filters import SyncFilterSet, updated_since_on
from api.models import Tombstone
from api.pagination import SyncCursorPagination
from api.resources.common import DepartmentSummarySerializer, PersonSerializer
from qi.models import AuditEvent, Project, Role, User

# --- the learning library --------------------------------------------------------------------


class LibraryProjectSerializer(serializers.ModelSerializer):
    """A completed project as anyone in the organisation sees it: no team, no working detail."""

    department = DepartmentSummarySerializer(read_only=True)
    topics = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "title",
            "aim",
            "category",
            "department",
            "topics",
            "outcome_summary",
            "lessons_learned",
            "completed_at",
            "updated_at",
        ]
        read_only_fields = fields


class LibraryFilter(SyncFilterSet):
    department = django_filters.NumberFilter(field_name="department_id")
    category = django_filters.MultipleChoiceFilter(choices=Project.Category.choices)
    topic = django_filters.CharFilter(field_name="topics__slug", distinct=True, help_text="A topic slug.")

    class Meta:
        model = Project
        fields = ["department", "category", "topic"]


@extend_schema_view(
    list=extend_schema(
        summary="List the learning library: completed projects of my organisation",
        description="Summary fields only. Projects I am on the team of, supervise or oversee are at /projects/.",
    ),
    retrieve=extend_schema(summary="Read a completed project's summary"),
)
@extend_schema(tags=["library"])
class LibraryViewSet(ConditionalRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Project.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = LibraryProjectSerializer
    filterset_class = LibraryFilter
    search_fields = ["title", "aim", "outcome_summary"]
    ordering_fields = ["updated_at", "completed_at"]
    ordering = ("-updated_at", "-id")

    def get_queryset(self):
        return (
            Project.objects.in_library_of(self.request.user)
            .select_related("department")
            .prefetch_related("topics")
            # Only what the serializer shows: the rest of the project is not the reader's to load.
            .only(
                "id",
                "title",
                "aim",
                "category",
                "department__name",
                "outcome_summary",
                "lessons_learned",
                "completed_at",
                "updated_at",
            )
        )


# --- the audit trail -------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    actor = PersonSerializer(read_only=True, allow_null=True, help_text="Null for changes the system made.")
    project = serializers.IntegerField(source="project_id", read_only=True)
    before = serializers.JSONField(read_only=True, help_text="The changed fields before the change.")
    after = serializers.JSONField(read_only=True, help_text="The changed fields after the change.")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "actor",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "project",
            "before",
            "after",
            "created_at",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="project_id")
    updated_since = updated_since_on("created_at")

    class Meta:
        model = AuditEvent
        fields = ["project", "updated_since"]


@extend_schema_view(
    list=extend_schema(
        summary="List the audit trail of the projects I can see",
        description="Every change, with who made it and the fields before and after. Filter by project.",
    ),
    retrieve=extend_schema(summary="Read an audit event"),
)
@extend_schema(tags=["projects"])
class AuditEventViewSet(ConditionalRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["created_at"]
    ordering = ("-created_at", "-id")  # audit events never change: created_at is their updated_at

    def get_queryset(self):
        visible = Project.objects.visible_to(self.request.user).values("pk")
        return AuditEvent.objects.filter(project__in=visible).select_related("actor")


# --- deletions -------------------------------------------------------------------------------

ORGANISATION_RESOURCES = ("projects", "departments")


def deletions_for(user: User) -> QuerySet[Tombstone]:
    """Tombstones of rows the user's client may hold: theirs, their projects', and their organisation's.

    A deleted placement has a tombstone for each person it named (doctor, supervisors: their user_id)
    and one for the organisation (user_id empty), which goes to its QI leads only.
    """
    scope = Q(user_id=user.pk) | Q(project_id__in=Project.objects.visible_to(user).values("pk"))
    organisation_id = user.organisation_id
    if organisation_id is not None:
        scope |= Q(organisation_id=organisation_id, resource__in=ORGANISATION_RESOURCES)
        is_qi_lead = Exists(Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD, organisation_id=organisation_id))
        scope |= Q(is_qi_lead, organisation_id=organisation_id, user_id__isnull=True, resource="placements")
    return Tombstone.objects.filter(scope)


class DeletionSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(
        source="project_id", read_only=True, allow_null=True, help_text="The project a deleted child belonged to."
    )

    class Meta:
        model = Tombstone
        fields = ["id", "resource", "object_id", "project", "deleted_at"]
        read_only_fields = fields
        extra_kwargs = {"resource": {"help_text": "The API resource of the deleted row, e.g. milestones."}}


class DeletionFilter(django_filters.FilterSet):
    resource = django_filters.CharFilter(help_text="Only deletions of this resource, e.g. data-points.")
    updated_since = updated_since_on("deleted_at")

    class Meta:
        model = Tombstone
        fields = ["resource", "updated_since"]


class DeletionPagination(SyncCursorPagination):
    ordering = ("deleted_at", "id")  # oldest first: a client applies deletions in the order they happened


@extend_schema(
    tags=["sync"],
    summary="List deletions since my last sync",
    description="Rows deleted that a syncing client may hold: drop each (resource, object_id) from the store.",
)
class DeletionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Tombstone.objects.none()
    serializer_class = DeletionSerializer
    filterset_class = DeletionFilter
    filter_backends = [DjangoFilterBackend]  # no client ordering: the cursor relies on deleted_at order
    pagination_class = DeletionPagination

    def get_queryset(self):
        return deletions_for(self.request.user)


def register(router) -> None:
    router.register("library", LibraryViewSet, basename="library")
    router.register("audit-events", AuditEventViewSet, basename="audit-event")
    router.register("deletions", DeletionViewSet, basename="deletion")
