"""Web pages. For now a home page: what the product is, and the signed-in user's projects."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe

from qi import access, csv_import, services
from qi.chart_svg import render_svg
from qi.charts import KIND_NAMES, RULE_LABELS, ChartError
from qi.errors import QIPermissionError, QITransitionError, QIValidationError
from qi.forms import DataPointImportForm
from qi.measure_charts import MeasureChart, chart_options, data_point_problem, measure_chart
from qi.models import Measure, Milestone, Project


def home(request: HttpRequest) -> HttpResponse:
    """Show the signed-in user's projects and what waits for them; a welcome otherwise."""
    context: dict = {}
    if request.user.is_authenticated:
        context["projects"] = (
            Project.objects.visible_to(request.user)
            .select_related("department", "supervisor")
            .order_by("-updated_at")[:50]
        )
        context["awaiting_review"] = (
            Milestone.objects.reviewable_by(request.user)
            .awaiting_review()
            .select_related("project")
            .order_by("submitted_at")[:50]
        )
        context["overdue"] = (
            Milestone.objects.visible_to(request.user).overdue().select_related("project").order_by("due_on")[:50]
        )
    return render(request, "qi/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Report that the app answers and can reach its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


# --- a measure's chart ---------------------------------------------------------------------------------

CHART_PARAMETERS = ("kind", "freeze", "phases", "run_length", "trend_length")
CHART_FIELD_LABELS = {
    "kind": "Chart type",
    "freeze": "Baseline",
    "phases": "Phases",
    "run_length": "Run length",
    "trend_length": "Trend length",
}


def _chart_problem(error: ChartError, measure: Measure) -> str:
    """A ChartError as a sentence that names the setting or the data point."""
    message = error.message[:1].upper() + error.message[1:] + "."
    if error.row is not None:
        return data_point_problem(error, measure)
    label = CHART_FIELD_LABELS.get(error.field or "")
    return f"{label}: {message}" if label else message


def _visible_measure(request: HttpRequest, pk: int) -> Measure:
    """The measure with its project, or 404 when the user cannot see the project."""
    measures = Measure.objects.select_related("project__department").filter(
        project__in=Project.objects.visible_to(request.user)
    )
    return get_object_or_404(measures, pk=pk)


def _chart(measure: Measure, query: QueryDict) -> MeasureChart:
    return measure_chart(measure, **chart_options(query))


def _chart_svg(chart: MeasureChart) -> str:
    return render_svg(
        chart.analysis,
        title=chart.measure.name,
        unit=chart.measure.unit,
        annotations=[(a.date, a.label) for a in chart.annotations],
        percent=chart.percent,
    )


@login_required
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a measure's chart, what it means, and its signals; chart settings come from the query string."""
    measure = _visible_measure(request, pk)
    context: dict = {"measure": measure, "project": measure.project, "kinds": KIND_NAMES, "query": request.GET}
    status = 200
    try:
        chart = _chart(measure, request.GET)
    except ChartError as error:
        context["problem"] = _chart_problem(error, measure)
        status = 400 if any(name in request.GET for name in CHART_PARAMETERS) else 200
    else:
        analysis = chart.analysis
        context.update(
            chart=chart,
            analysis=analysis,
            kind_name=KIND_NAMES[analysis.kind],
            point_count=analysis.point_count,
            svg=mark_safe(_chart_svg(chart)),  # render_svg escapes every text it draws
            signals=[(signal, RULE_LABELS[signal.rule]) for signal in analysis.signals],
            phases=",".join(analysis.settings["phase_starts"]),
        )
    if access.can_edit_project(request.user, measure.project):
        context["import_url"] = reverse("measure_import", args=[measure.pk])
    svg_url = reverse("measure_chart_svg", args=[measure.pk])
    context["svg_url"] = f"{svg_url}?{request.GET.urlencode()}" if request.GET else svg_url
    return render(request, "qi/measure_detail.html", context, status=status)


@login_required
def measure_chart_svg(request: HttpRequest, pk: int) -> HttpResponse:
    """The measure's chart as an SVG image; 400 with the reason when it cannot be drawn."""
    measure = _visible_measure(request, pk)
    try:
        chart = _chart(measure, request.GET)
    except ChartError as error:
        response = HttpResponse(_chart_problem(error, measure), status=400, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(_chart_svg(chart), content_type="image/svg+xml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="measure-{measure.pk}-chart.svg"'
        # Opened on its own, the image runs nothing and loads nothing.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private"
    return response


# --- importing a measure's data from a CSV file ----------------------------------------------------


@login_required
def measure_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a measure's data points from a CSV file: all or none, each problem named by its line."""
    measure = _visible_measure(request, pk)
    project = measure.project
    context: dict = {"measure": measure, "project": project, "max_rows": f"{csv_import.MAX_ROWS:,}"}
    if not access.can_edit_project(request.user, project):
        context["refusal"] = "Only the project team can import data for this measure."
        return render(request, "qi/measure_import.html", context, status=403)
    if project.status not in services.OPEN_STATUSES:
        context["refusal"] = f"This project is {project.get_status_display().lower()}: its data can no longer change."
        return render(request, "qi/measure_import.html", context)
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > csv_import.MAX_UPLOAD_BYTES:
        # Refused before Django reads the upload: nothing of a huge file reaches memory or disk.
        form = DataPointImportForm(data={})
        form.is_valid()  # bound and empty: its one error becomes the size
        form.errors["file"] = form.error_class([csv_import.TOO_LARGE])
        context["form"] = form
        return render(request, "qi/measure_import.html", context, status=413)
    form = DataPointImportForm(request.POST, request.FILES) if request.method == "POST" else DataPointImportForm()
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read(csv_import.MAX_BYTES + 1)
        try:
            created = services.data_points_import(actor=request.user, measure=measure, csv_text=content)
        except QIValidationError as exc:
            listed = list(exc.field_errors.values()) or [exc.message]
            for message in listed:
                form.add_error("file", message)
            # When not every bad line is listed, say so (the parser stops after 20 problems).
            stopped = re.search(r"reading stopped at line (\d+)", exc.message)
            if stopped:
                form.add_error(
                    "file",
                    f"Reading stopped at line {stopped[1]}: fix these and upload the file again to check the rest.",
                )
            elif "are listed)" in exc.message:  # more bad lines than the parser lists at once
                form.add_error("file", f"More lines have problems than the {len(listed)} listed here.")
        except (QIPermissionError, QITransitionError) as exc:  # the team or the project changed meanwhile
            form.add_error(None, exc.message)
        else:
            count = len(created)
            messages.success(request, f"{count} data point{'s' if count != 1 else ''} imported.")
            return redirect("measure_detail", pk=measure.pk)
    context["form"] = form
    return render(request, "qi/measure_import.html", context)
