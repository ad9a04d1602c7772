"""PDSA cycles: list, create (numbered by the service), read and record what happened.

Writes call ``qi.services``; lists are scoped to the projects a person sees whole.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from api.conditional import ConditionalRetrieveMixin, conditional_response, require_current
from api.filters import SyncFilterSet
from api.resources.common import ServiceWriteMixin, VisibleProjectField
from qi import services
from qi.models import PDSACycle, Project, User


def cycles_for(user: User) -> QuerySet[PDSACycle]:
    return PDSACycle.objects.filter(project__in=Project.objects.visible_to(user).values("pk"))


class PDSACycleSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", read_only=True)

    class Meta:
        model = PDSACycle
        fields = [
            "id",
            "project",
            "number",
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
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PDSACycleFieldsSerializer(serializers.Serializer):
    """The fields a team records on a cycle; all optional, for both create and edit."""

    question = serializers.CharField(required=False, allow_blank=True)
    prediction = serializers.CharField(required=False, allow_blank=True)
    plan_who = serializers.CharField(required=False, allow_blank=True)
    plan_what = serializers.CharField(required=False, allow_blank=True)
    plan_when = serializers.CharField(required=False, allow_blank=True)
    plan_where = serializers.CharField(required=False, allow_blank=True)
    do_notes = serializers.CharField(required=False, allow_blank=True, help_text="What happened.")
    study = serializers.CharField(required=False, allow_blank=True, help_text="Results against the prediction.")
    act = serializers.ChoiceField(
        choices=PDSACycle.Act.choices, required=False, allow_blank=True, help_text="Adopt, adapt or abandon."
    )
    act_notes = serializers.CharField(required=False, allow_blank=True)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)


class PDSACycleCreateSerializer(PDSACycleFieldsSerializer):
    project = VisibleProjectField()
    change_idea = serializers.CharField(help_text="The change being tested.")


class PDSACycleUpdateSerializer(PDSACycleFieldsSerializer):
    change_idea = serializers.CharField(required=False)


class PDSACycleFilter(SyncFilterSet):
    project = django_filters.NumberFilter(field_name="project_id")

    class Meta:
        model = PDSACycle
        fields = ["project"]


@extend_schema_view(
    list=extend_schema(summary="List PDSA cycles of projects I can see"),
    retrieve=extend_schema(summary="Read a PDSA cycle"),
    create=extend_schema(
        summary="Start a project's next PDSA cycle (team, open project)",
        description="Cycles are numbered 1, 2, 3... per project by the server.",
        request=PDSACycleCreateSerializer,
        responses={201: PDSACycleSerializer},
        examples=[
            OpenApiExample(
                "New cycle",
                request_only=True,
                value={
                    "project": 12,
                    "change_idea": "ECG prompt on the triage card",
                    "prediction": "Door-to-ECG median falls below 15 minutes within two weeks.",
                    "starts_on": "2026-02-02",
                },
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Record what happened, the study and the decision (team, open project)",
        request=PDSACycleUpdateSerializer,
        responses={200: PDSACycleSerializer},
    ),
)
@extend_schema(tags=["PDSA cycles"])
class PDSACycleViewSet(
    ServiceWriteMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = PDSACycle.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = PDSACycleSerializer
    filterset_class = PDSACycleFilter
    ordering_fields = ["number", "updated_at"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return cycles_for(self.request.user)

    def create(self, request):
        cycle = services.pdsa_cycle_create(actor=request.user, **self._input(PDSACycleCreateSerializer))
        return conditional_response(request, PDSACycleSerializer(cycle).data, http_status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None) -> Response:
        cycle = self.get_object()
        require_current(request, PDSACycleSerializer(cycle).data)
        cycle = services.pdsa_cycle_update(actor=request.user, cycle=cycle, **self._input(PDSACycleUpdateSerializer))
        return conditional_response(request, PDSACycleSerializer(cycle).data)


def register(router) -> None:
    router.register("pdsa-cycles", PDSACycleViewSet, basename="pdsa-cycle")
