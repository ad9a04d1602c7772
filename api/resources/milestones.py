"""Milestones (list, create, edit, and the actions submit, approve, request changes) and their reviews (read).

Every write calls a ``qi.services`` function; lists are scoped by ``Milestone.objects.visible_to``, so a
milestone outside a person's scope is a 404. Overdue and the latest review come from annotations: one
query per page, whatever its size.
"""

from __future__ import annotations

import django_filters
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, QuerySet, Subquery
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action

from api.conditional import ConditionalRetrieveMixin, require_current
from api.filters import SyncFilterSet, updated_since_on
from api.resources.common import PersonSerializer, ServiceWriteMixin, VisibleProjectField
from qi import services
from qi.models import Milestone, Project, Review, User

# --- reads -----------------------------------------------------------------------------------


def milestones_for(user: User) -> QuerySet[Milestone]:
    """Milestones the user sees, with everything the serializer shows, in one query."""
    latest_review = Review.objects.filter(milestone=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        Milestone.objects.visible_to(user)
        .select_related("submitted_by")
        .annotate(
            # The rule stays in qi (overdue_condition, which overdue() filters by), computed on each row: an
            # EXISTS over overdue() read every overdue milestone of the database on each request.
            is_overdue=ExpressionWrapper(Milestone.objects.overdue_condition(), output_field=BooleanField()),
            latest_decision=Subquery(latest_review.values("decision")[:1]),
            latest_comment=Subquery(latest_review.values("comment")[:1]),
        )
    )


def reviews_for(user: User) -> QuerySet[Review]:
    return Review.objects.filter(milestone__project__in=Project.objects.visible_to(user).values("pk")).select_related(
        "reviewer", "milestone"
    )


class LatestReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Review.Decision.choices, read_only=True)
    comment = serializers.CharField(read_only=True)


@extend_schema_field(LatestReviewSerializer(allow_null=True))
class LatestReviewField(serializers.Field):
    """The latest decision and its comment, from annotations (no query per row)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, milestone: Milestone):
        if getattr(milestone, "latest_decision", None) is None:
            return None
        return {"decision": milestone.latest_decision, "comment": milestone.latest_comment}


class MilestoneSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", read_only=True)
    is_overdue = serializers.BooleanField(
        read_only=True, help_text="Past due, not yet submitted or approved, on an active project."
    )
    submitted_by = PersonSerializer(read_only=True, allow_null=True)
    latest_review = LatestReviewField(
        help_text="The latest decision {decision, comment}, or null; kept after a resubmission so the "
        "team can see what was asked."
    )

    class Meta:
        model = Milestone
        fields = [
            "id",
            "project",
            "kind",
            "title",
            "description",
            "due_on",
            "required",
            "status",
            "is_overdue",
            "evidence",
            "evidence_url",
            "submitted_at",
            "submitted_by",
            "decided_at",
            "latest_review",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    milestone = serializers.IntegerField(source="milestone_id", read_only=True)
    project = serializers.IntegerField(source="milestone.project_id", read_only=True)
    reviewer = PersonSerializer(read_only=True)

    class Meta:
        model = Review
        fields = ["id", "milestone", "project", "reviewer", "decision", "comment", "created_at"]
        read_only_fields = fields


# --- writes ----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="Milestone")  # request bodies as MilestoneRequest, PatchedMilestoneRequest
class MilestoneCreateSerializer(serializers.Serializer):
    project = VisibleProjectField()
    title = serializers.CharField(max_length=200)
    due_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=Milestone.Kind.choices, default=Milestone.Kind.OTHER)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    required = serializers.BooleanField(
        required=False, default=True, help_text="Must be approved before the project can complete."
    )


@extend_schema_serializer(component_name="Milestone")  # request bodies as MilestoneRequest, PatchedMilestoneRequest
class MilestoneUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    due_on = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=Milestone.Kind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    required = serializers.BooleanField(required=False, help_text="Only while the project is a draft.")


class SubmitSerializer(serializers.Serializer):
    # Blank evidence reaches the service, which owns the rule and its message.
    evidence = serializers.CharField(allow_blank=True, help_text="What was done, with links to documents.")
    evidence_url = serializers.URLField(required=False, allow_blank=True, default="")


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RequestChangesSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, help_text="What needs to change; required.")


# --- filters ---------------------------------------------------------------------------------


class MilestoneFilter(SyncFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Milestone.Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Milestone.Kind.choices)
    project = django_filters.NumberFilter(field_name="project_id")
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", help_text="Due on or after this date."
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", help_text="Due on or before this date."
    )
    overdue = django_filters.BooleanFilter(field_name="is_overdue", help_text="true: overdue milestones only.")
    awaiting_my_review = django_filters.BooleanFilter(
        method="filter_awaiting_my_review",
        help_text="true: submitted milestones I may decide on (as supervisor or QI lead, not on the team).",
    )

    class Meta:
        model = Milestone
        fields = ["status", "kind", "project", "due_after", "due_before", "overdue", "awaiting_my_review"]

    def filter_awaiting_my_review(self, queryset, name, value):
        waiting = Milestone.objects.reviewable_by(self.request.user).awaiting_review().values("pk")
        return queryset.filter(pk__in=waiting) if value else queryset.exclude(pk__in=waiting)


class ReviewFilter(django_filters.FilterSet):
    # Reviews never change once written, so a sync asks for those created since.
    updated_since = updated_since_on("created_at")
    milestone = django_filters.NumberFilter(field_name="milestone_id")
    project = django_filters.NumberFilter(field_name="milestone__project_id")

    class Meta:
        model = Review
        fields = ["updated_since", "milestone", "project"]


# --- views -----------------------------------------------------------------------------------

SUBMIT_EXAMPLE = OpenApiExample(
    "Submit with evidence",
    request_only=True,
    value={
        "evidence": "Baseline: 30 weeks of door-to-ECG times, run chart attached; median 22 minutes.",
        "evidence_url": "https://nhs.sharepoint.com/sites/cardiology-qi/baseline.pdf",
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="List milestones I can see",
        description="Milestones of every project I see whole. `ordering=due_on` gives a plan in date order; "
        "`awaiting_my_review=true` is a reviewer's queue.",
    ),
    retrieve=extend_schema(summary="Read a milestone"),
    create=extend_schema(
        summary="Add a milestone to a project's plan (team, open project)",
        request=MilestoneCreateSerializer,
        responses={201: MilestoneSerializer},
        examples=[
            OpenApiExample(
                "New milestone",
                request_only=True,
                value={"project": 12, "title": "Present at the audit meeting", "due_on": "2026-03-04"},
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Edit a planned milestone or one sent back for changes (team)",
        description="Send If-Match with the ETag you read to refuse the change (412) if someone else "
        "changed the milestone since.",
        request=MilestoneUpdateSerializer,
        responses={200: MilestoneSerializer},
    ),
)
@extend_schema(tags=["milestones"])
class MilestoneViewSet(
    ServiceWriteMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Milestone.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    ordering_fields = ["due_on", "updated_at"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return milestones_for(self.request.user)

    def create(self, request):
        milestone = services.milestone_create(actor=request.user, **self._input(MilestoneCreateSerializer))
        return self._fresh(milestone, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        milestone = self.get_object()
        require_current(request, MilestoneSerializer(milestone).data)
        services.milestone_update(actor=request.user, milestone=milestone, **self._input(MilestoneUpdateSerializer))
        return self._fresh(milestone)

    @extend_schema(
        summary="Submit a milestone with its evidence for review (team, active project)",
        description="Also resubmits a milestone sent back for changes. The supervisor is notified.",
        request=SubmitSerializer,
        responses=MilestoneSerializer,
        examples=[SUBMIT_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        milestone = self.get_object()  # before reading the input: an outsider gets 404, not a field error
        services.milestone_submit(actor=request.user, milestone=milestone, **self._input(SubmitSerializer))
        return self._fresh(milestone)

    @extend_schema(
        summary="Approve a submitted milestone (supervisor or QI lead, not on the team)",
        request=ApproveSerializer,
        responses=MilestoneSerializer,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        milestone = self.get_object()
        services.milestone_approve(actor=request.user, milestone=milestone, **self._input(ApproveSerializer))
        return self._fresh(milestone)

    @extend_schema(
        summary="Send a submitted milestone back with a comment (supervisor or QI lead)",
        request=RequestChangesSerializer,
        responses=MilestoneSerializer,
    )
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        milestone = self.get_object()
        services.milestone_request_changes(
            actor=request.user, milestone=milestone, **self._input(RequestChangesSerializer)
        )
        return self._fresh(milestone)


@extend_schema_view(
    list=extend_schema(
        summary="List reviews of milestones I can see",
        description="Reviews never change: `updated_since` filters on the time they were made.",
    ),
    retrieve=extend_schema(summary="Read a review"),
)
@extend_schema(tags=["milestones"])
class ReviewViewSet(
    ConditionalRetrieveMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Review.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["created_at"]
    ordering = ("-created_at", "-id")  # reviews have no updated_at

    def get_queryset(self):
        return reviews_for(self.request.user)


def register(router) -> None:
    router.register("milestones", MilestoneViewSet, basename="milestone")
    router.register("reviews", ReviewViewSet, basename="review")
