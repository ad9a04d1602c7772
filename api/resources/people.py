"""People and the organisation: me (profile, e-mail preferences, dashboard), organisations, departments and
placements. Reads are scoped to the requesting user's organisation and roles; profile and placement writes
call ``qi.services``; preferences are validated by the ``Preference`` model, as the web form is.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.conditional import ConditionalRetrieveMixin, conditional_response, require_current
from api.filters import SyncFilterSet
from api.resources.common import (
    ColleagueField,
    DepartmentField,
    DepartmentSummarySerializer,
    PersonSerializer,
    ServiceWriteMixin,
)
from notifications.models import REMINDER_DAY_CHOICES, Notification, Preference
from notifications.outbox import preference_of
from qi import access, services
from qi.models import Department, Grade, Milestone, Organisation, Placement, Project, ProjectMembership, Role, User

DASHBOARD_LIMIT = 50  # rows per dashboard list; each list also says its total
DUE_SOON_DAYS = 14

# --- me: profile -----------------------------------------------------------------------------


class OrganisationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class QILeadSerializer(serializers.Serializer):
    organisation = serializers.BooleanField(
        source="organisation_lead", read_only=True, help_text="QI lead of the whole organisation (every department)."
    )
    departments = DepartmentSummarySerializer(
        source="qi_lead_departments", many=True, read_only=True, help_text="Departments I am QI lead of by name."
    )


class MeSerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer(read_only=True, allow_null=True)
    qi_lead_of = QILeadSerializer(read_only=True, source="*")

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "grade", "gmc_number", "organisation", "qi_lead_of"]
        read_only_fields = fields


class MeUpdateSerializer(serializers.Serializer):
    # Types only: the User model validates the values (a GMC number is 7 digits and unique).
    full_name = serializers.CharField(required=False, allow_blank=True)
    grade = serializers.ChoiceField(choices=Grade.choices, required=False)
    gmc_number = serializers.CharField(required=False, allow_blank=True, help_text="7 digits; blank to clear.")


def _me(user: User) -> User:
    """The user with their organisation and QI lead roles, ready for MeSerializer, in two queries."""
    user = User.objects.select_related("organisation").get(pk=user.pk)
    roles = list(Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD).select_related("department"))
    user.organisation_lead = any(role.department_id is None for role in roles)
    user.qi_lead_departments = sorted((r.department for r in roles if r.department_id), key=lambda d: d.name)
    return user


# --- me: e-mail preferences ------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "integer",
        "nullable": True,
        "description": "Days before a milestone is due: one of "
        + ", ".join(str(days) for days, _ in REMINDER_DAY_CHOICES)
        + "; null for no reminder.",
    }
)
class ReminderDaysField(serializers.ChoiceField):
    """The model's choices; described as an integer, since two fields share them (one enum, two names)."""

    def __init__(self, **kwargs):
        super().__init__(choices=REMINDER_DAY_CHOICES, allow_null=True, required=False, **kwargs)


class PreferenceSerializer(serializers.ModelSerializer):
    """The web form's fields; the model's choices are the rules, so both check the same things."""

    first_reminder_days = ReminderDaysField()
    second_reminder_days = ReminderDaysField()
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null until first saved.")

    class Meta:
        model = Preference
        fields = [
            "email_activity",
            "email_reminders",
            "first_reminder_days",
            "second_reminder_days",
            "digest",
            "updated_at",
        ]


# --- me: dashboard ---------------------------------------------------------------------------


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class DashboardProjectSerializer(serializers.ModelSerializer):
    # Only the values that can occur here, which also keeps the schema's enum names distinct.
    status = serializers.ChoiceField(choices=[Project.Status.ACTIVE], read_only=True)

    class Meta:
        model = Project
        fields = ["id", "title", "status", "ends_on"]
        read_only_fields = fields


class DashboardMilestoneSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=[Milestone.Status.PLANNED, Milestone.Status.SUBMITTED, Milestone.Status.CHANGES_REQUESTED],
        read_only=True,
    )
    project = ProjectRefSerializer(read_only=True)

    class Meta:
        model = Milestone
        fields = ["id", "title", "status", "due_on", "submitted_at", "project"]
        read_only_fields = fields


class DashboardProjectsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="How many there are in all.")
    results = DashboardProjectSerializer(many=True, help_text=f"The first {DASHBOARD_LIMIT}, soonest end first.")


class DashboardMilestonesSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="How many there are in all.")
    results = DashboardMilestoneSerializer(many=True, help_text=f"The first {DASHBOARD_LIMIT}, oldest first.")


class DashboardSerializer(serializers.Serializer):
    active_projects = DashboardProjectsSerializer(help_text="Active projects I am on the team of.")
    due_soon = DashboardMilestonesSerializer(
        help_text=f"Milestones of my active projects due in the next {DUE_SOON_DAYS} days, still to submit."
    )
    overdue = DashboardMilestonesSerializer(help_text="Milestones of my active projects past their due date.")
    reviews_waiting = DashboardMilestonesSerializer(help_text="Submitted milestones waiting for my review.")
    unread_notifications = serializers.IntegerField()


def _capped(queryset: QuerySet) -> dict:
    """The first DASHBOARD_LIMIT rows and the total: two queries, whatever the number of rows."""
    return {"total": queryset.count(), "results": list(queryset[:DASHBOARD_LIMIT])}


def dashboard_of(user: User) -> dict:
    """What needs the user's attention, in nine queries."""
    on_team_now = ProjectMembership.objects.current().filter(user=user)
    my_projects = Project.objects.filter(
        Exists(on_team_now.filter(project=OuterRef("pk"))), status=Project.Status.ACTIVE
    ).order_by("ends_on", "pk")
    my_milestones = Milestone.objects.filter(Exists(on_team_now.filter(project=OuterRef("project")))).select_related(
        "project"
    )
    waiting = Milestone.objects.reviewable_by(user).awaiting_review().select_related("project")
    return {
        "active_projects": _capped(my_projects.only("id", "title", "status", "ends_on")),
        "due_soon": _capped(my_milestones.due_within(DUE_SOON_DAYS).order_by("due_on", "pk")),
        "overdue": _capped(my_milestones.overdue().order_by("due_on", "pk")),
        "reviews_waiting": _capped(waiting.order_by("submitted_at", "pk")),
        "unread_notifications": Notification.objects.for_user(user).unread().count(),
    }


PROFILE_EXAMPLE = OpenApiExample("Change grade", request_only=True, value={"grade": "FY2", "gmc_number": "7654321"})


@extend_schema(tags=["me"])
class MeViewSet(viewsets.ViewSet):
    """/me/ and its sub-resources; registered without a prefix, since /me/ is one object, not a list."""

    @extend_schema(summary="Read my profile", responses=MeSerializer, operation_id="me_retrieve")
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        return conditional_response(request, MeSerializer(_me(request.user)).data)

    @me.mapping.patch
    @extend_schema(
        summary="Change my name, grade or GMC number",
        request=MeUpdateSerializer,
        responses=MeSerializer,
        examples=[PROFILE_EXAMPLE],
        operation_id="me_partial_update",
    )
    def update_me(self, request):
        require_current(request, MeSerializer(_me(request.user)).data)
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.profile_update(actor=request.user, **serializer.validated_data)
        return conditional_response(request, MeSerializer(_me(request.user)).data)

    @extend_schema(summary="Read my e-mail preferences", responses=PreferenceSerializer)
    @action(detail=False, methods=["get"], url_path="me/preferences", url_name="me-preferences")
    def preferences(self, request):
        return conditional_response(request, PreferenceSerializer(preference_of(request.user)).data)

    @preferences.mapping.patch
    @extend_schema(
        summary="Change my e-mail preferences",
        request=PreferenceSerializer,
        responses=PreferenceSerializer,
        examples=[OpenApiExample("No digest", request_only=True, value={"digest": "off", "first_reminder_days": 3})],
    )
    def update_preferences(self, request):
        serializer = PreferenceSerializer(preference_of(request.user), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preference, _ = Preference.objects.get_or_create(user=request.user)
        # Update only the fields sent, so an unsubscribe link clicked at the same moment is not undone.
        changes = {**serializer.validated_data, "updated_at": timezone.now()}
        Preference.objects.filter(pk=preference.pk).update(**changes)
        preference.refresh_from_db()
        return conditional_response(request, PreferenceSerializer(preference).data)

    @extend_schema(summary="What needs my attention", responses=DashboardSerializer)
    @action(detail=False, methods=["get"], url_path="me/dashboard", url_name="me-dashboard")
    def dashboard(self, request):
        return Response(DashboardSerializer(dashboard_of(request.user)).data)


# --- organisations and departments -----------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "code", "updated_at"]
        read_only_fields = fields


class OrganisationFilter(SyncFilterSet):
    class Meta:
        model = Organisation
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="List organisations: my own"),
    retrieve=extend_schema(summary="Read my organisation"),
)
@extend_schema(tags=["organisation"])
class OrganisationViewSet(ConditionalRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Organisation.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["updated_at"]
    ordering = ("-updated_at", "-id")

    def get_queryset(self):
        return Organisation.objects.filter(pk=self.request.user.organisation_id)


class DepartmentSerializer(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="organisation_id", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "specialty", "division", "organisation", "updated_at"]
        read_only_fields = fields


class DepartmentFilter(SyncFilterSet):
    class Meta:
        model = Department
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="List the departments of my organisation"),
    retrieve=extend_schema(summary="Read a department"),
)
@extend_schema(tags=["organisation"])
class DepartmentViewSet(ConditionalRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Department.objects.none()
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    search_fields = ["name"]
    ordering_fields = ["updated_at", "name"]
    ordering = ("-updated_at", "-id")

    def get_queryset(self):
        return Department.objects.filter(organisation_id=self.request.user.organisation_id)


# --- placements ------------------------------------------------------------------------------


class PlacementSerializer(serializers.ModelSerializer):
    doctor = PersonSerializer(read_only=True)
    department = DepartmentSummarySerializer(read_only=True)
    educational_supervisor = PersonSerializer(read_only=True, allow_null=True)
    clinical_supervisor = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Placement
        fields = [
            "id",
            "doctor",
            "department",
            "starts_on",
            "ends_on",
            "educational_supervisor",
            "clinical_supervisor",
            "updated_at",
        ]
        read_only_fields = fields


class PlacementCreateSerializer(serializers.Serializer):
    doctor = ColleagueField()
    department = DepartmentField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    educational_supervisor = ColleagueField(required=False, allow_null=True)
    clinical_supervisor = ColleagueField(required=False, allow_null=True)


class PlacementUpdateSerializer(serializers.Serializer):
    department = DepartmentField(required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    educational_supervisor = ColleagueField(required=False, allow_null=True)
    clinical_supervisor = ColleagueField(required=False, allow_null=True)


class PlacementFilter(SyncFilterSet):
    doctor = django_filters.NumberFilter(field_name="doctor_id")
    department = django_filters.NumberFilter(field_name="department_id")
    current = django_filters.BooleanFilter(method="filter_current", help_text="true: placements running today.")

    class Meta:
        model = Placement
        fields = ["doctor", "department", "current"]

    def filter_current(self, queryset, name, value):
        running = Placement.objects.current().values("pk")
        return queryset.filter(pk__in=running) if value else queryset.exclude(pk__in=running)


@extend_schema_view(
    list=extend_schema(
        summary="List placements I can see",
        description="My own, those I supervise (educational or clinical), and every placement of the "
        "departments (or organisation) I am QI lead of.",
    ),
    retrieve=extend_schema(summary="Read a placement"),
    create=extend_schema(
        summary="Add a placement (QI lead of its department or organisation)",
        request=PlacementCreateSerializer,
        responses={201: PlacementSerializer},
        examples=[
            OpenApiExample(
                "New rotation",
                request_only=True,
                value={
                    "doctor": 12,
                    "department": 3,
                    "starts_on": "2026-12-02",
                    "ends_on": "2027-04-06",
                    "clinical_supervisor": 7,
                },
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Change a placement's department, dates or supervisors (QI lead)",
        request=PlacementUpdateSerializer,
        responses={200: PlacementSerializer},
    ),
    destroy=extend_schema(summary="Delete a placement entered by mistake (QI lead)", responses={204: None}),
)
@extend_schema(tags=["organisation"])
class PlacementViewSet(
    ServiceWriteMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Placement.objects.none()
    serializer_class = PlacementSerializer
    filterset_class = PlacementFilter
    ordering_fields = ["updated_at", "starts_on"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return access.placements_visible_to(self.request.user).select_related(
            "doctor", "department", "educational_supervisor", "clinical_supervisor"
        )

    def create(self, request):
        placement = services.placement_create(actor=request.user, **self._input(PlacementCreateSerializer))
        return self._fresh(placement, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        placement = self.get_object()
        require_current(request, PlacementSerializer(placement).data)
        changes = self._input(PlacementUpdateSerializer)
        placement = services.placement_update(actor=request.user, placement=placement, **changes)
        return self._fresh(placement)

    def destroy(self, request, pk=None):
        services.placement_delete(actor=request.user, placement=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    # No prefix: the viewset's actions are /me/, /me/preferences/ and /me/dashboard/.
    router.register("", MeViewSet, basename="me")
    router.register("organisations", OrganisationViewSet, basename="organisation")
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("placements", PlacementViewSet, basename="placement")
