"""Notifications pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    raise NotImplementedError  # replaced by the views helper
