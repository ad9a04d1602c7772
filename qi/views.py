"""Web pages. For now a home page: what the product is, and the signed-in user's projects."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from qi.models import Milestone, Project


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
