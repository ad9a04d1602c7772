"""The QI domain: organisations, doctors, placements, projects and their milestones.

Rules about data are database constraints; rules about who may do what live in
``qi.access`` and the workflow in ``qi.services``. Querysets here hold the reads
that are reused (``Project.objects.visible_to(user)``, ``Milestone.objects.overdue()``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst

from qi.patient_data import free_text_errors


def today() -> dt.date:
    """Return today's date in the configured time zone (Europe/London)."""
    return timezone.localdate()


class PatientDataGuarded(models.Model):
    """Refuse free text holding patient identifiers, naming the field, on full_clean()."""

    patient_free_text_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors = free_text_errors(
            (name, capfirst(str(self._meta.get_field(name).verbose_name)), getattr(self, name) or "")
            for name in self.patient_free_text_fields
        )
        if errors:
            raise ValidationError(errors)


# --- Organisations and people ------------------------------------------------------------------


class Organisation(models.Model):
    """An NHS trust."""

    name = models.CharField(max_length=200, unique=True)
    code = models.CharField("ODS code", max_length=10, unique=True, help_text="e.g. RGT")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="departments")
    name = models.CharField(max_length=200)
    specialty = models.CharField(max_length=100, blank=True)
    division = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="department_name_unique_in_organisation"),
        ]

    def __str__(self) -> str:
        return self.name


class Grade(models.TextChoices):
    FY1 = "FY1", "Foundation year 1"
    FY2 = "FY2", "Foundation year 2"
    CT1 = "CT1", "CT/IMT1"
    CT2 = "CT2", "CT/IMT2"
    CT3 = "CT3", "CT/IMT3"
    ST1 = "ST1", "ST1"
    ST2 = "ST2", "ST2"
    ST3 = "ST3", "ST3"
    ST4 = "ST4", "ST4"
    ST5 = "ST5", "ST5"
    ST6 = "ST6", "ST6"
    ST7 = "ST7", "ST7"
    ST8 = "ST8", "ST8"
    SAS = "SAS", "SAS / locally employed doctor"
    CONSULTANT = "CONSULTANT", "Consultant"
    OTHER = "OTHER", "Other"


gmc_number_validator = RegexValidator(r"^\d{7}$", "A GMC number is exactly 7 digits.")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=(username or "").strip().lower())

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an e-mail address; roles come from data, not flags."""

    email = models.EmailField("e-mail address", max_length=254, unique=True, help_text="Stored in lower case.")
    full_name = models.CharField(max_length=150)
    grade = models.CharField(max_length=12, choices=Grade.choices, default=Grade.OTHER)
    gmc_number = models.CharField(
        "GMC number", max_length=7, blank=True, validators=[gmc_number_validator], help_text="7 digits"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    is_staff = models.BooleanField(default=False, help_text="May log in to the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="user_email_lower_case"),
            models.UniqueConstraint(fields=["gmc_number"], condition=~Q(gmc_number=""), name="user_gmc_number_unique"),
            models.CheckConstraint(
                condition=Q(gmc_number="") | Q(gmc_number__regex=r"^[0-9]{7}$"), name="user_gmc_number_7_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = (self.email or "").strip().lower()

    def save(self, *args, **kwargs) -> None:
        # One spelling per address, so login and uniqueness ignore case.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.Model):
    """A QI lead for one department, or for the whole organisation when department is empty."""

    class Kind(models.TextChoices):
        QI_LEAD = "qi_lead", "QI lead"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.QI_LEAD)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roles")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True, related_name="roles")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "department"],
                condition=Q(department__isnull=False),
                name="role_unique_per_department",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "organisation"],
                condition=Q(department__isnull=True),
                name="role_unique_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.organisation
        return f"{self.get_kind_display()} of {scope}: {self.user}"

    def clean(self) -> None:
        if self.department_id and self.organisation_id and self.department.organisation_id != self.organisation_id:
            raise ValidationError({"department": "The department must belong to the role's organisation."})


class PlacementQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None) -> PlacementQuerySet:
        on = on or today()
        return self.filter(starts_on__lte=on, ends_on__gte=on)


class Placement(models.Model):
    """A doctor's rotation in a department, with their supervisors."""

    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="placements")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="placements")
    starts_on = models.DateField()
    ends_on = models.DateField()
    educational_supervisor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="educational_supervisees"
    )
    clinical_supervisor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="clinical_supervisees"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlacementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        indexes = [models.Index(fields=["ends_on", "starts_on"], name="placement_dates")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="placement_ends_after_start"),
            models.UniqueConstraint(fields=["doctor", "starts_on"], name="placement_unique_start_per_doctor"),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} in {self.department} ({self.starts_on:%d %b %Y} to {self.ends_on:%d %b %Y})"


class Topic(models.Model):
    """A label that groups projects for the learning library (sepsis, discharge, falls...)."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Projects ----------------------------------------------------------------------------------


def _qi_lead_scope(user: User) -> tuple[list[int], list[int]]:
    """Return the organisations and the departments the user is QI lead of: one query on ``Role``."""
    roles = Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD).values_list("organisation_id", "department_id")
    organisations, departments = set(), set()
    for organisation_id, department_id in roles:
        if department_id is None:
            organisations.add(organisation_id)
        else:
            departments.add(department_id)
    return sorted(organisations), sorted(departments)


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ProjectQuerySet:
        """Projects a user sees whole: team (past or present), supervisor, or QI lead in scope.

        The user's QI lead roles are read first, when this is called (one query on the small ``Role``
        table), so the SQL names their departments and organisations. PostgreSQL cannot estimate an OR of
        EXISTS and role subqueries (most of the table, for everyone) and sorted every project and milestone
        for a doctor on two teams (docs/BENCHMARKS.md). Here a doctor's scope is one ``pk IN (... UNION
        ...)`` of a handful of ids, and an organisation's QI lead's list walks the ``(updated_at, id)``
        index and stops after a page.
        """
        if not user.is_authenticated:
            return self.none()
        organisations, departments = _qi_lead_scope(user)
        # Former members keep read access: the project is evidence in their portfolio.
        parts = [
            ProjectMembership.objects.filter(user=user).order_by().values("project_id"),
            Project.objects.filter(supervisor=user).order_by().values("pk"),
        ]
        if departments:
            parts.append(Project.objects.filter(department_id__in=departments).order_by().values("pk"))
        personal = parts[0].union(*parts[1:])
        if organisations:
            return self.filter(Q(department__organisation_id__in=organisations) | Q(pk__in=personal))
        return self.filter(pk__in=personal)

    def in_library_of(self, user: User) -> ProjectQuerySet:
        """Completed projects of the user's organisation: the learning library."""
        if not user.is_authenticated or user.organisation_id is None:
            return self.none()
        return self.filter(status=Project.Status.COMPLETED, department__organisation_id=user.organisation_id)

    def led_by(self, user: User) -> ProjectQuerySet:
        return self.filter(
            Exists(ProjectMembership.objects.current().filter(project=OuterRef("pk"), user=user, role="lead"))
        )


class Project(PatientDataGuarded):
    class Category(models.TextChoices):
        QI = "qi", "Quality improvement"
        CLINICAL_AUDIT = "clinical_audit", "Clinical audit"
        RE_AUDIT = "re_audit", "Re-audit"
        SERVICE_EVALUATION = "service_evaluation", "Service evaluation"

    class Method(models.TextChoices):
        MODEL_FOR_IMPROVEMENT = "model_for_improvement", "Model for Improvement (PDSA)"
        LEAN = "lean", "Lean"
        SIX_SIGMA = "six_sigma", "Six Sigma"
        AUDIT_CYCLE = "audit_cycle", "Audit cycle"
        EXPERIENCE_BASED_CO_DESIGN = "ebcd", "Experience-based co-design"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    title = models.CharField(max_length=200)
    problem = models.TextField("problem", help_text="What is wrong now, and how do you know?")
    aim = models.TextField("SMART aim", help_text="Specific, measurable, achievable, relevant, time-bound.")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.QI)
    method = models.CharField(max_length=30, choices=Method.choices, default=Method.MODEL_FOR_IMPROVEMENT)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="projects")
    supervisor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="supervised_projects"
    )
    team = models.ManyToManyField(User, through="ProjectMembership", through_fields=("project", "user"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    seeking_team_members = models.BooleanField(
        default=False, help_text="Shown in the learning digest to doctors who might join."
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="projects")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Target date for completion.")
    completed_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    abandon_reason = models.TextField("reason for abandoning", blank=True)
    outcome_summary = models.TextField("outcome summary", blank=True)
    lessons_learned = models.TextField("lessons learned", blank=True)
    sustainability_notes = models.TextField("sustainability notes", blank=True)
    handover_notes = models.TextField("handover notes", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    patient_free_text_fields = (
        "title",
        "problem",
        "aim",
        "abandon_reason",
        "outcome_summary",
        "lessons_learned",
        "sustainability_notes",
        "handover_notes",
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["department", "status"], name="project_department_status"),
            models.Index(fields=["status", "updated_at"], name="project_status_updated"),
            # The order of every synced list (cursor pagination): a page is an index walk, not a sort.
            models.Index(fields=["-updated_at", "-id"], name="project_updated_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="project_ends_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "completed", "abandoned"]), name="project_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | (Q(completed_at__isnull=False) & ~Q(outcome_summary="") & ~Q(lessons_learned="")),
                name="project_completed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(status="abandoned") | (Q(abandoned_at__isnull=False) & ~Q(abandon_reason="")),
                name="project_abandoned_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def organisation_id(self) -> int:
        return self.department.organisation_id

    @property
    def lead(self) -> User | None:
        membership = self.memberships.current().filter(role=ProjectMembership.Role.LEAD).select_related("user").first()
        return membership.user if membership else None


class MembershipQuerySet(models.QuerySet):
    def current(self) -> MembershipQuerySet:
        return self.filter(left_at__isnull=True)


class ProjectMembership(models.Model):
    """A doctor on a project's team; ended memberships are kept as history."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        MEMBER = "member", "Team member"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at"]
        indexes = [models.Index(fields=["user", "left_at"], name="membership_user_current")]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=Q(role="lead", left_at__isnull=True), name="project_one_current_lead"
            ),
            models.UniqueConstraint(
                fields=["project", "user"], condition=Q(left_at__isnull=True), name="membership_unique_current"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="membership_leaves_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.project}"


class Handover(PatientDataGuarded):
    """A project passed from one lead to the next, usually at rotation."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="handovers")
    from_lead = models.ForeignKey(User, on_delete=models.PROTECT, related_name="handovers_given")
    to_lead = models.ForeignKey(User, on_delete=models.PROTECT, related_name="handovers_received")
    handed_over_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField("handover notes", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    patient_free_text_fields = ("notes",)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_lead=models.F("to_lead")), name="handover_to_someone_else"),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.from_lead} to {self.to_lead}"


# --- Milestones and reviews --------------------------------------------------------------------


class MilestoneQuerySet(models.QuerySet):
    @staticmethod
    def overdue_condition(on: dt.date | None = None) -> Q:
        """Past their due date, not yet submitted or approved, on an active project; derived, never stored.

        Drafts have not started and closed projects are finished, so neither has anything overdue. The rule
        as a condition on the milestone's row, for ``overdue()`` and for annotating each row of a list.
        """
        return Q(
            due_on__lt=on or today(),
            status__in=[Milestone.Status.PLANNED, Milestone.Status.CHANGES_REQUESTED],
            project__status=Project.Status.ACTIVE,
        )

    def overdue(self, on: dt.date | None = None) -> MilestoneQuerySet:
        """Milestones overdue on a date (today by default): see ``overdue_condition``."""
        return self.filter(self.overdue_condition(on))

    def due_within(self, days: int, on: dt.date | None = None) -> MilestoneQuerySet:
        """Due in the next `days` days (today included) and still to be submitted, on an active project."""
        start = on or today()
        return self.filter(
            due_on__gte=start,
            due_on__lte=start + dt.timedelta(days=days),
            status__in=[Milestone.Status.PLANNED, Milestone.Status.CHANGES_REQUESTED],
            project__status=Project.Status.ACTIVE,
        )

    def awaiting_review(self) -> MilestoneQuerySet:
        """Submitted and waiting for a decision, on an active project (closed projects take no reviews)."""
        return self.filter(status=Milestone.Status.SUBMITTED, project__status=Project.Status.ACTIVE)

    def visible_to(self, user: User) -> MilestoneQuerySet:
        return self.filter(project__in=Project.objects.visible_to(user).values("pk"))

    def reviewable_by(self, user: User) -> MilestoneQuerySet:
        """Milestones of active projects this user may review: supervisor or QI lead in scope, not on the team."""
        if not user.is_authenticated:
            return self.none()
        leads = Role.objects.filter(user=user, kind=Role.Kind.QI_LEAD)
        on_team = ProjectMembership.objects.current().filter(project=OuterRef("project"), user=user)
        return (
            self.filter(
                project__status=Project.Status.ACTIVE,
            )
            .filter(
                Q(project__supervisor=user)
                | Q(project__department__in=leads.filter(department__isnull=False).values("department"))
                | Q(project__department__organisation__in=leads.filter(department__isnull=True).values("organisation"))
            )
            .exclude(Exists(on_team))
        )


class Milestone(PatientDataGuarded):
    class Kind(models.TextChoices):
        PROPOSAL = "proposal", "Proposal and team"
        AIM_AND_MEASURES = "aim_and_measures", "Aim and measures agreed"
        REGISTRATION = "registration", "Registered with audit/QI department"
        BASELINE = "baseline", "Baseline data"
        DATA_COLLECTION = "data_collection", "Data collection"
        PDSA = "pdsa", "PDSA cycle"
        ANALYSIS = "analysis", "Analysis"
        PRESENTATION = "presentation", "Presentation"
        WRITE_UP = "write_up", "Write-up"
        HANDOVER = "handover", "Handover and sustainability"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_on = models.DateField()
    required = models.BooleanField(default=True, help_text="Must be approved before the project can complete.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    evidence = models.TextField(blank=True, help_text="What was done, with links to documents.")
    evidence_url = models.URLField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    patient_free_text_fields = ("title", "description", "evidence")

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="milestone_status_due"),
            models.Index(fields=["project", "due_on"], name="milestone_project_due"),
            models.Index(fields=["-updated_at", "-id"], name="milestone_updated_id"),  # as project_updated_id
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["planned", "submitted", "approved", "changes_requested"]),
                name="milestone_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["submitted", "approved"]) | (~Q(evidence="") & Q(submitted_at__isnull=False)),
                name="milestone_submitted_has_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "changes_requested"]) | Q(decided_at__isnull=False),
                name="milestone_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, on: dt.date | None = None) -> bool:
        return (
            self.due_on < (on or today())
            and self.status in (self.Status.PLANNED, self.Status.CHANGES_REQUESTED)
            and self.project.status == Project.Status.ACTIVE
        )


class Review(PatientDataGuarded):
    """A supervisor's or QI lead's decision on a submitted milestone."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    patient_free_text_fields = ("comment",)

    class Meta:
        ordering = ["created_at"]
        # The order of the synced review list (reviews never change, so created_at is their updated_at).
        indexes = [models.Index(fields=["-created_at", "-id"], name="review_created_id")]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["approved", "changes_requested"]), name="review_decision_valid"
            ),
            models.CheckConstraint(
                condition=~Q(decision="changes_requested") | ~Q(comment=""), name="review_changes_have_comment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer}"


# --- PDSA cycles, measures and data ------------------------------------------------------------


class PDSACycle(PatientDataGuarded):
    class Act(models.TextChoices):
        ADOPT = "adopt", "Adopt"
        ADAPT = "adapt", "Adapt"
        ABANDON = "abandon", "Abandon"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pdsa_cycles")
    number = models.PositiveSmallIntegerField()
    change_idea = models.TextField("change tested")
    question = models.TextField("question", blank=True)
    prediction = models.TextField("prediction", blank=True)
    plan_who = models.TextField("plan: who", blank=True)
    plan_what = models.TextField("plan: what", blank=True)
    plan_when = models.TextField("plan: when", blank=True)
    plan_where = models.TextField("plan: where", blank=True)
    do_notes = models.TextField("what happened", blank=True)
    study = models.TextField("study (results against prediction)", blank=True)
    act = models.CharField(max_length=10, choices=Act.choices, blank=True)
    act_notes = models.TextField("act: next steps", blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    patient_free_text_fields = (
        "change_idea",
        "question",
        "prediction",
        "plan_who",
        "plan_what",
        "plan_when",
        "plan_where",
        "do_notes",
        "study",
        "act_notes",
    )

    class Meta:
        verbose_name = "PDSA cycle"
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="pdsa_number_unique_in_project"),
            models.CheckConstraint(condition=Q(number__gte=1), name="pdsa_number_positive"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="pdsa_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(act__in=["", "adopt", "adapt", "abandon"]), name="pdsa_act_valid"),
        ]

    def __str__(self) -> str:
        return f"PDSA {self.number}: {self.change_idea[:60]}"


MAX_CHART_PHASES = 50


class Measure(PatientDataGuarded):
    class Kind(models.TextChoices):
        OUTCOME = "outcome", "Outcome"
        PROCESS = "process", "Process"
        BALANCING = "balancing", "Balancing"

    class Direction(models.TextChoices):
        UP = "up", "Higher is better"
        DOWN = "down", "Lower is better"

    class ChartKind(models.TextChoices):
        RUN = "run", "Run chart (median, Anhøj rules)"
        XMR = "xmr", "XmR chart (values)"
        P = "p", "P chart (proportions)"
        C = "c", "C chart (counts)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="measures")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OUTCOME)
    operational_definition = models.TextField(
        help_text="Exactly what is counted, from where, how often; numerator and denominator for a percentage."
    )
    unit = models.CharField(max_length=40, blank=True, help_text="e.g. %, minutes, patients")
    better = models.CharField("which direction is better", max_length=4, choices=Direction.choices)
    target = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True, help_text="In the unit shown; a percentage for %."
    )
    # How the measure is charted by default (the chart endpoint and page can override each per request).
    chart_kind = models.CharField(
        max_length=3,
        choices=ChartKind.choices,
        blank=True,
        help_text="Blank: a P chart for numerator/denominator data, an XmR chart for values.",
    )
    baseline_points = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(2)],
        help_text="Freeze the centre and limits at the first N points (the baseline) and judge later points on them.",
    )
    phase_starts = models.JSONField(
        default=list,
        blank=True,
        help_text="ISO dates where the process changed (e.g. a PDSA change went in): limits recalculated from each.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    patient_free_text_fields = ("name", "operational_definition")

    class Meta:
        ordering = ["project", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="measure_name_unique_in_project"),
            models.CheckConstraint(condition=Q(better__in=["up", "down"]), name="measure_direction_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.phase_starts = self.cleaned_phase_starts(self.phase_starts)

    @staticmethod
    def cleaned_phase_starts(raw: object) -> list[str]:
        """Phase start dates as sorted, distinct ISO strings; ValidationError names a bad entry."""
        if raw in (None, ""):
            return []
        if not isinstance(raw, list):
            raise ValidationError({"phase_starts": "Give a list of dates (YYYY-MM-DD)."})
        days = set()
        for entry in raw:
            try:
                days.add(entry if isinstance(entry, dt.date) else dt.date.fromisoformat(str(entry)))
            except ValueError:
                raise ValidationError({"phase_starts": f"{entry!s:.40} is not a date (YYYY-MM-DD)."}) from None
        if len(days) > MAX_CHART_PHASES:
            raise ValidationError({"phase_starts": f"At most {MAX_CHART_PHASES} phases."})
        return [day.isoformat() for day in sorted(days)]

    @property
    def phase_start_dates(self) -> list[dt.date]:
        return [dt.date.fromisoformat(day) for day in self.phase_starts or []]


class DataPoint(PatientDataGuarded):
    """One period's figure: a plain value, or a numerator over a denominator."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="data_points")
    date = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    numerator = models.PositiveIntegerField(null=True, blank=True)
    denominator = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    pdsa_cycle = models.ForeignKey(
        PDSACycle, on_delete=models.SET_NULL, null=True, blank=True, related_name="data_points"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    patient_free_text_fields = ("note",)

    class Meta:
        ordering = ["measure", "date"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "date"], name="datapoint_one_per_date"),
            models.CheckConstraint(
                condition=(Q(value__isnull=False) & Q(numerator__isnull=True) & Q(denominator__isnull=True))
                | (Q(value__isnull=True) & Q(numerator__isnull=False) & Q(denominator__isnull=False)),
                name="datapoint_value_or_fraction",
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0), name="datapoint_denominator_positive"
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True)
                | Q(denominator__isnull=True)
                | Q(numerator__lte=models.F("denominator")),
                name="datapoint_numerator_within_denominator",
            ),
        ]

    def __str__(self) -> str:
        if self.value is not None:
            return f"{self.date}: {self.value}"
        return f"{self.date}: {self.numerator}/{self.denominator}"


# --- Audit trail -------------------------------------------------------------------------------


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[override]
        raise TypeError("Audit events are append-only.")

    def delete(self):  # type: ignore[override]
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Append-only record of a state change: who did what to which object, before and after."""

    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, help_text="Model label, e.g. qi.milestone")
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["project", "created_at"], name="audit_project_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor or 'system'} {self.verb} {self.object_repr}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only.")


def current_placement(user: User, on: dt.date | None = None) -> Placement | None:
    """Return the user's placement on a date (the latest-starting one if they overlap)."""
    return Placement.objects.current(on).filter(doctor=user).order_by("-starts_on").first()
