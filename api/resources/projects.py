"""Projects: list, create, read, edit, the workflow actions (activate, complete, abandon, hand over,
set the supervisor) and the team. Every write calls a ``qi.services`` function; lists are scoped by
``Project.objects.visible_to``, so an object outside a person's scope is a 404.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Case, CharField, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.conditional import ConditionalRetrieveMixin, require_current
from api.filters import SyncFilterSet
from api.resources.common import (
    ColleagueField,
    DepartmentField,
    DepartmentSummarySerializer,
    PersonSerializer,
    ServiceWriteMixin,
)
from qi import services
from qi.models import Project, ProjectMembership, Topic, User

# --- reads -----------------------------------------------------------------------------------


def projects_for(user: User) -> QuerySet[Project]:
    """Projects the user sees whole, with everything the serializer shows, in a fixed number of queries."""
    current = ProjectMembership.objects.current().filter(project=OuterRef("pk"))
    lead = current.filter(role=ProjectMembership.Role.LEAD)
    return (
        Project.objects.visible_to(user)
        .select_related("department", "supervisor")
        # A plain list per project (no related manager, no whole Topic rows): ProjectSerializer reads it.
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.only("id", "slug"), to_attr="topic_list"))
        .annotate(
            lead_id=Subquery(lead.values("user_id")[:1]),
            lead_name=Subquery(lead.values("user__full_name")[:1]),
            my_role=Case(
                When(Exists(lead.filter(user=user)), then=Value("lead")),
                When(Exists(current.filter(user=user)), then=Value("member")),
                When(supervisor=user, then=Value("supervisor")),
                When(
                    Exists(ProjectMembership.objects.filter(project=OuterRef("pk"), user=user)),
                    then=Value("former_member"),
                ),
                default=Value("qi_lead"),
                output_field=CharField(),
            ),
        )
    )


@extend_schema_field(PersonSerializer(allow_null=True))
class LeadField(serializers.Field):
    """The current lead, from the lead_id / lead_name annotations (no query per row)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, project: Project):
        if getattr(project, "lead_id", None) is None:
            return None
        return {"id": project.lead_id, "full_name": project.lead_name}


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


_moment = serializers.DateTimeField().to_representation  # ISO 8601 in the current time zone, "Z" for UTC


class ProjectSerializer(serializers.ModelSerializer):
    department = DepartmentSummarySerializer(read_only=True)
    supervisor = PersonSerializer(read_only=True, allow_null=True)
    lead = LeadField(help_text="The current lead: {id, full_name}, or null.")
    topics = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    my_role = serializers.ChoiceField(
        choices=["lead", "member", "supervisor", "former_member", "qi_lead"],
        read_only=True,
        help_text="How the requesting user relates to the project; decides which actions they may take.",
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "title",
            "problem",
            "aim",
            "category",
            "method",
            "status",
            "department",
            "supervisor",
            "lead",
            "my_role",
            "topics",
            "seeking_team_members",
            "starts_on",
            "ends_on",
            "completed_at",
            "abandoned_at",
            "abandon_reason",
            "outcome_summary",
            "lessons_learned",
            "sustainability_notes",
            "handover_notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, project: Project) -> dict:
        """Each field of Meta.fields, as the declared fields render it, written out in one dict.

        DRF's field-by-field walk was a third of a project list's time once its SQL was fast: 11 ms for a
        page of 50 (docs/BENCHMARKS.md). The declared fields stay for the schema; a test checks this gives
        their output byte for byte. Reads the annotations and the topic list of ``projects_for``.
        """
        department, supervisor = project.department, project.supervisor
        lead_id = getattr(project, "lead_id", None)
        topics = getattr(project, "topic_list", None)
        if topics is None:  # not from projects_for()
            topics = project.topics.all()
        return {
            "id": project.id,
            "title": project.title,
            "problem": project.problem,
            "aim": project.aim,
            "category": project.category,
            "method": project.method,
            "status": project.status,
            "department": {"id": department.id, "name": department.name},
            "supervisor": None if supervisor is None else {"id": supervisor.id, "full_name": supervisor.full_name},
            "lead": None if lead_id is None else {"id": lead_id, "full_name": project.lead_name},
            "my_role": project.my_role,
            "topics": [topic.slug for topic in topics],
            "seeking_team_members": bool(project.seeking_team_members),
            "starts_on": _date(project.starts_on),
            "ends_on": _date(project.ends_on),
            "completed_at": _moment(project.completed_at),
            "abandoned_at": _moment(project.abandoned_at),
            "abandon_reason": project.abandon_reason,
            "outcome_summary": project.outcome_summary,
            "lessons_learned": project.lessons_learned,
            "sustainability_notes": project.sustainability_notes,
            "handover_notes": project.handover_notes,
            "created_at": _moment(project.created_at),
            "updated_at": _moment(project.updated_at),
        }


# --- writes ----------------------------------------------------------------------------------


class ProjectCreateSerializer(serializers.Serializer):
    department = DepartmentField()
    title = serializers.CharField(max_length=200)
    problem = serializers.CharField()
    aim = serializers.CharField(help_text="A SMART aim.")
    category = serializers.ChoiceField(choices=Project.Category.choices, default=Project.Category.QI)
    method = serializers.ChoiceField(choices=Project.Method.choices, default=Project.Method.MODEL_FOR_IMPROVEMENT)
    supervisor = ColleagueField(required=False, allow_null=True, help_text="Default: your placement's supervisor.")
    topics = serializers.SlugRelatedField(slug_field="slug", queryset=Topic.objects.all(), many=True, required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, help_text="Default: the end of your current placement.")


class ProjectUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    problem = serializers.CharField(required=False)
    aim = serializers.CharField(required=False)
    method = serializers.ChoiceField(choices=Project.Method.choices, required=False)
    ends_on = serializers.DateField(required=False)
    seeking_team_members = serializers.BooleanField(required=False)
    outcome_summary = serializers.CharField(required=False, allow_blank=True)
    lessons_learned = serializers.CharField(required=False, allow_blank=True)
    sustainability_notes = serializers.CharField(required=False, allow_blank=True)
    handover_notes = serializers.CharField(required=False, allow_blank=True)
    topics = serializers.SlugRelatedField(slug_field="slug", queryset=Topic.objects.all(), many=True, required=False)


class CompleteSerializer(serializers.Serializer):
    outcome_summary = serializers.CharField(required=False, help_text="Default: the project's outcome summary.")
    lessons_learned = serializers.CharField(required=False, help_text="Default: the project's lessons learned.")


class AbandonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the project stops, so others can learn.")


class HandOverSerializer(serializers.Serializer):
    successor = ColleagueField(help_text="The doctor who will lead the project.")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SupervisorSerializer(serializers.Serializer):
    supervisor = ColleagueField()


class MemberAddSerializer(serializers.Serializer):
    user = ColleagueField(help_text="The doctor to add to the team.")


class MembershipSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = ProjectMembership
        fields = ["id", "user", "role", "joined_at", "left_at", "updated_at"]
        read_only_fields = fields


# --- filters ---------------------------------------------------------------------------------


class ProjectFilter(SyncFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Project.Status.choices)
    category = django_filters.MultipleChoiceFilter(choices=Project.Category.choices)
    department = django_filters.NumberFilter(field_name="department_id")
    supervisor = django_filters.NumberFilter(field_name="supervisor_id")
    lead = django_filters.NumberFilter(method="filter_lead", help_text="Id of the current lead.")
    topic = django_filters.CharFilter(field_name="topics__slug", distinct=True, help_text="A topic slug.")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="true: projects I am on the team of now.")
    supervising = django_filters.BooleanFilter(method="filter_supervising", help_text="true: projects I supervise.")

    class Meta:
        model = Project
        fields = ["status", "category", "department", "supervisor", "lead", "topic", "mine", "supervising"]

    def filter_lead(self, queryset, name, value):
        return queryset.filter(lead_id=value)

    def filter_mine(self, queryset, name, value):
        mine = Q(my_role__in=["lead", "member"])
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_supervising(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(supervisor=user) if value else queryset.exclude(supervisor=user)


# --- views -----------------------------------------------------------------------------------

PROJECT_EXAMPLE = OpenApiExample(
    "New project",
    request_only=True,
    value={
        "department": 3,
        "title": "Faster ECGs for chest pain",
        "problem": "Door-to-ECG time for chest pain averages 22 minutes.",
        "aim": "90% of chest pain patients have an ECG within 10 minutes of arrival by 31 March.",
        "category": "qi",
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="List projects I can see",
        description="Team (now or before), supervised, or in "
        "my scope as QI lead. Completed projects of my organisation are at /library/.",
    ),
    retrieve=extend_schema(summary="Read a project"),
    create=extend_schema(
        summary="Start a draft project that I lead",
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer},
        examples=[PROJECT_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Edit a project (team only, while open)",
        request=ProjectUpdateSerializer,
        responses={200: ProjectSerializer},
    ),
)
@extend_schema(tags=["projects"])
class ProjectViewSet(
    ServiceWriteMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Project.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["title", "aim"]
    ordering_fields = ["updated_at", "created_at", "ends_on"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return projects_for(self.request.user)

    def create(self, request):
        data = self._input(ProjectCreateSerializer)
        project = services.project_create(actor=request.user, **data)
        return self._fresh(project, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        project = self.get_object()
        require_current(request, ProjectSerializer(project).data)
        changes = self._input(ProjectUpdateSerializer)
        topics = changes.pop("topics", None)
        services.project_update(actor=request.user, project=project, topics=topics, **changes)
        return self._fresh(project)

    @extend_schema(
        summary="Activate a draft project (lead; needs a supervisor)", request=None, responses=ProjectSerializer
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        project = services.project_activate(actor=request.user, project=self.get_object())
        return self._fresh(project)

    @extend_schema(
        summary="Complete an active project (lead; required milestones approved)",
        request=CompleteSerializer,
        responses=ProjectSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        project = services.project_complete(
            actor=request.user, project=self.get_object(), **self._input(CompleteSerializer)
        )
        return self._fresh(project)

    @extend_schema(
        summary="Abandon a project, saying why (lead or QI lead)",
        request=AbandonSerializer,
        responses=ProjectSerializer,
    )
    @action(detail=True, methods=["post"])
    def abandon(self, request, pk=None):
        project = self.get_object()  # before reading the input: an outsider gets 404, not a field error
        reason = self._input(AbandonSerializer)["reason"]
        project = services.project_abandon(actor=request.user, project=project, reason=reason)
        return self._fresh(project)

    @extend_schema(
        summary="Hand the project over to a successor lead (lead or QI lead)",
        request=HandOverSerializer,
        responses=ProjectSerializer,
    )
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        project = self.get_object()
        services.project_hand_over(actor=request.user, project=project, **self._input(HandOverSerializer))
        return self._fresh(project)

    @extend_schema(
        summary="Set the supervisor (lead or QI lead)", request=SupervisorSerializer, responses=ProjectSerializer
    )
    @action(detail=True, methods=["post"])
    def supervisor(self, request, pk=None):
        project = services.project_supervisor_set(
            actor=request.user, project=self.get_object(), **self._input(SupervisorSerializer)
        )
        return self._fresh(project)

    @extend_schema(
        summary="List the team, former members included (left_at set)",
        responses=MembershipSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def members(self, request, pk=None):
        project = self.get_object()
        memberships = project.memberships.select_related("user").order_by("joined_at", "pk")
        return Response(MembershipSerializer(memberships, many=True).data)

    @members.mapping.post
    @extend_schema(
        summary="Add a doctor to the team (lead or QI lead)",
        request=MemberAddSerializer,
        responses={201: MembershipSerializer},
    )
    def add_member(self, request, pk=None):
        project = self.get_object()
        user = self._input(MemberAddSerializer)["user"]
        membership = services.project_member_add(actor=request.user, project=project, user=user)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take a doctor off the team, or leave it yourself", request=None, responses={204: None}, filters=False
    )
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>\d+)", filter_backends=[])
    def remove_member(self, request, pk=None, user_id=None):
        project = self.get_object()
        user = User.objects.filter(pk=user_id, organisation_id=request.user.organisation_id).first()
        if user is None:
            raise NotFound("No such person.")
        services.project_member_remove(actor=request.user, project=project, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("projects", ProjectViewSet, basename="project")
