"""Notifications pages: the inbox, marking read, e-mail preferences, and one-click unsubscribe.

Unsubscribing needs no login: the signed token in the link names the person and the category,
and mail clients send RFC 8058 one-click POSTs without a CSRF token, so that view is exempt.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from notifications import outbox
from notifications.models import REMINDER_DAY_CHOICES, Category, Notification, Preference
from qi.models import User

INBOX_PAGE_SIZE = 50


def _back_to_inbox(request: HttpRequest) -> HttpResponseRedirect:
    """Redirect to `next` if it points into this site, else to the inbox."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    hosts = {request.get_host()}
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure())
    return HttpResponseRedirect(target if safe else reverse("notifications:inbox"))


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """List the user's own notifications, newest first, 50 a page."""
    notifications = Notification.objects.for_user(request.user).only(
        "pk", "kind", "title", "body", "url", "created_at", "read_at"
    )
    page = Paginator(notifications, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Mark one of the user's notifications read; someone else's is a 404."""
    mine = Notification.objects.for_user(request.user).filter(pk=pk)
    # Conditional, so reading twice keeps the first time; the existence check runs only then.
    if not mine.mark_read() and not mine.exists():
        raise Http404("No such notification.")
    return _back_to_inbox(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponseRedirect:
    """Mark every unread notification of the user read."""
    Notification.objects.for_user(request.user).mark_read()
    return _back_to_inbox(request)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm (GET) and stop (POST, also RFC 8058 one-click) one category of e-mails; no login needed."""
    try:
        user_id, category = outbox.read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "notifications/unsubscribe_broken.html", status=400)
    person = get_object_or_404(User, pk=user_id)
    context = {"person": person, "category": category, "category_label": Category(category).label}
    if request.method == "POST":
        Preference.turn_off(person, category)
        return render(request, "notifications/unsubscribe_done.html", context)
    return render(request, "notifications/unsubscribe.html", context)


REMINDER_CHOICES = [("", "No reminder"), *REMINDER_DAY_CHOICES]


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ("email_activity", "email_reminders", "first_reminder_days", "second_reminder_days", "digest")
        labels = {
            "email_activity": "E-mail me about project activity (submissions, reviews, handovers)",
            "email_reminders": "E-mail me reminders (due, overdue, reviews waiting, rotation handover)",
            "first_reminder_days": "First reminder before a milestone is due",
            "second_reminder_days": "Second reminder before a milestone is due",
            "digest": "Learning digest",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_reminder_days", "second_reminder_days"):
            self.fields[name].choices = REMINDER_CHOICES


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Show and save the user's e-mail choices."""
    if request.method == "POST":
        preference, _ = Preference.objects.get_or_create(user=request.user)
        form = PreferenceForm(request.POST, instance=preference)
        if form.is_valid():
            form.save()
            messages.success(request, "Your notification preferences were saved.")
            return redirect("notifications:preferences")
    else:
        form = PreferenceForm(instance=outbox.preference_of(request.user))
    return render(request, "notifications/preferences.html", {"form": form})
