"""Django admin for administrators: set-up and data fixes, not the doctors' workflow.

Every model of ``qi`` is registered. Changelists join or annotate what their columns show,
so a page runs the same number of queries whatever its length; foreign keys use
autocomplete widgets so forms never load every user. Forms run the model's ``full_clean()``,
so database constraints and the patient-data guard show as form errors. Audit events are
read-only here: they are written by ``qi.services`` and never changed or deleted.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db import models
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from qi.models import (
    AuditEvent,
    DataPoint,
    Department,
    Handover,
    Measure,
    Milestone,
    Organisation,
    PDSACycle,
    Placement,
    Project,
    ProjectMembership,
    Review,
    Role,
    Topic,
    User,
)

# --- People and organisations -------------------------------------------------------------------


class _LowerCaseEmailMixin:
    """Store one spelling of each address, so the uniqueness check ignores case."""

    cleaned_data: dict

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()


class QIUserCreationForm(_LowerCaseEmailMixin, UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "grade", "gmc_number", "organisation")


class QIUserChangeForm(_LowerCaseEmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = QIUserChangeForm
    add_form = QIUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Doctor", {"fields": ("full_name", "grade", "gmc_number", "organisation")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "grade", "gmc_number", "organisation", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "full_name", "grade", "gmc_number", "organisation", "is_staff", "is_active")
    list_select_related = ("organisation",)
    list_filter = ("is_staff", "is_superuser", "is_active", "grade", "organisation")
    search_fields = ("email", "full_name", "gmc_number")
    ordering = ("email",)
    autocomplete_fields = ("organisation",)
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ("groups", "user_permissions")
    date_hierarchy = "date_joined"


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "department_count")
    search_fields = ("name", "code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return super().get_queryset(request).annotate(department_total=Count("departments"))

    @admin.display(description="departments", ordering="department_total")
    def department_count(self, obj: Organisation) -> int:
        return obj.department_total


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "specialty", "division")
    list_select_related = ("organisation",)
    list_filter = ("organisation", "division")
    search_fields = ("name", "specialty", "division", "organisation__name", "organisation__code")
    autocomplete_fields = ("organisation",)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "organisation", "department")
    list_select_related = ("user", "organisation", "department")
    list_filter = ("kind", "organisation")
    search_fields = ("user__full_name", "user__email", "department__name", "organisation__name")
    autocomplete_fields = ("user", "organisation", "department")


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ("doctor", "department", "starts_on", "ends_on", "educational_supervisor", "clinical_supervisor")
    list_select_related = ("doctor", "department", "educational_supervisor", "clinical_supervisor")
    list_filter = ("department__organisation", "department")
    search_fields = ("doctor__full_name", "doctor__email", "department__name")
    autocomplete_fields = ("doctor", "department", "educational_supervisor", "clinical_supervisor")
    date_hierarchy = "starts_on"


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


# --- Projects -----------------------------------------------------------------------------------


class ProjectMembershipInline(admin.TabularInline):
    model = ProjectMembership
    fields = ("user", "role", "joined_at", "left_at")
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProjectMembership]:
        return super().get_queryset(request).select_related("user")


class MilestoneInline(admin.TabularInline):
    """The plan at a glance; submission and review data are edited on the milestone's own page."""

    model = Milestone
    fields = ("title", "kind", "due_on", "required", "status")
    readonly_fields = ("status",)
    show_change_link = True
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("title", "department", "status", "category", "lead_name", "supervisor", "starts_on", "ends_on")
    list_select_related = ("department", "supervisor")
    list_filter = ("status", "category", "method", "department__organisation", "department")
    search_fields = ("title", "aim", "problem", "department__name", "supervisor__full_name", "supervisor__email")
    autocomplete_fields = ("department", "supervisor", "topics")
    date_hierarchy = "starts_on"
    readonly_fields = ("created_at", "updated_at")
    inlines = (ProjectMembershipInline, MilestoneInline)
    fieldsets = (
        (None, {"fields": ("title", "department", "supervisor", "category", "method", "topics")}),
        ("The problem and the aim", {"fields": ("problem", "aim")}),
        (
            "Status and dates",
            {"fields": ("status", "starts_on", "ends_on", "completed_at", "abandoned_at", "abandon_reason")},
        ),
        (
            "Outcome",
            {"fields": ("outcome_summary", "lessons_learned", "sustainability_notes", "handover_notes")},
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        lead = ProjectMembership.objects.current().filter(project=OuterRef("pk"), role=ProjectMembership.Role.LEAD)
        return super().get_queryset(request).annotate(lead_full_name=Subquery(lead.values("user__full_name")[:1]))

    @admin.display(description="lead", ordering="lead_full_name")
    def lead_name(self, obj: Project) -> str:
        return obj.lead_full_name or "-"


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "project", "role", "joined_at", "left_at")
    list_select_related = ("user", "project")
    list_filter = ("role", "project__department__organisation")
    search_fields = ("user__full_name", "user__email", "project__title")
    autocomplete_fields = ("user", "project")
    date_hierarchy = "joined_at"


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ("project", "from_lead", "to_lead", "handed_over_by", "created_at")
    list_select_related = ("project", "from_lead", "to_lead", "handed_over_by")
    search_fields = ("project__title", "from_lead__full_name", "to_lead__full_name", "notes")
    autocomplete_fields = ("project", "from_lead", "to_lead", "handed_over_by")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"


# --- Milestones and reviews ---------------------------------------------------------------------


class ReviewInline(admin.TabularInline):
    """Decisions are made through the workflow and only shown here."""

    model = Review
    fields = ("reviewer", "decision", "comment", "created_at")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        return super().get_queryset(request).select_related("reviewer")

    def has_add_permission(self, request: HttpRequest, obj: Milestone | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Milestone | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Milestone | None = None) -> bool:
        return False


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ("title", "project", "kind", "status", "due_on", "overdue", "submitted_at", "decided_at")
    list_select_related = ("project",)
    list_filter = ("status", "kind", "required", "project__department__organisation")
    search_fields = ("title", "project__title")
    autocomplete_fields = ("project", "submitted_by")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "due_on"
    inlines = (ReviewInline,)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description="overdue")
    def overdue(self, obj: Milestone) -> bool:
        return obj.is_overdue()


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("milestone", "project", "decision", "reviewer", "created_at")
    list_select_related = ("milestone__project", "reviewer")
    list_filter = ("decision",)
    search_fields = ("milestone__title", "milestone__project__title", "reviewer__full_name", "comment")
    autocomplete_fields = ("milestone", "reviewer")
    date_hierarchy = "created_at"

    @admin.display(description="project", ordering="milestone__project__title")
    def project(self, obj: Review) -> Project:
        return obj.milestone.project


# --- PDSA cycles, measures and data -------------------------------------------------------------


@admin.register(PDSACycle)
class PDSACycleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "number", "act", "starts_on", "ends_on")
    list_select_related = ("project",)
    list_filter = ("act",)
    search_fields = ("change_idea", "project__title")
    autocomplete_fields = ("project",)
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "starts_on"


class DataPointInline(admin.TabularInline):
    model = DataPoint
    fields = ("date", "value", "numerator", "denominator", "note", "pdsa_cycle")
    raw_id_fields = ("pdsa_cycle",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataPoint]:
        return super().get_queryset(request).select_related("pdsa_cycle")


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "kind", "better", "unit", "target", "data_point_count")
    list_select_related = ("project",)
    list_filter = ("kind", "better")
    search_fields = ("name", "project__title")
    autocomplete_fields = ("project",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (DataPointInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Measure]:
        return super().get_queryset(request).annotate(data_point_total=Count("data_points"))

    @admin.display(description="data points", ordering="data_point_total")
    def data_point_count(self, obj: Measure) -> int:
        return obj.data_point_total


@admin.register(DataPoint)
class DataPointAdmin(admin.ModelAdmin):
    list_display = ("measure", "project", "date", "value", "numerator", "denominator", "pdsa_cycle")
    list_select_related = ("measure__project", "pdsa_cycle")
    search_fields = ("measure__name", "measure__project__title", "note")
    autocomplete_fields = ("measure", "pdsa_cycle")
    date_hierarchy = "date"

    @admin.display(description="project", ordering="measure__project__title")
    def project(self, obj: DataPoint) -> Project:
        return obj.measure.project


# --- Audit trail --------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Strictly read-only: the audit trail is append-only, written only by the services."""

    list_display = ("created_at", "actor", "verb", "object_type", "object_repr", "project")
    list_select_related = ("actor", "project")
    list_filter = ("verb", "object_type")
    search_fields = ("verb", "object_type", "object_id", "object_repr", "actor__email", "actor__full_name")
    date_hierarchy = "created_at"
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEvent | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
