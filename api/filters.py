"""What every list shares: ``updated_since`` for clients that sync only what changed, and a stable ordering."""

from __future__ import annotations

import django_filters
from rest_framework.filters import OrderingFilter

UPDATED_SINCE_HELP = (
    "Only rows changed at or after this time (ISO 8601, e.g. 2026-11-25T09:30:00Z). "
    "Send the sync_time of your previous sync; deletions are listed at /api/v1/deletions/."
)


class SyncFilterSet(django_filters.FilterSet):
    """Base FilterSet of every list: ``updated_since`` on the row's ``updated_at``."""

    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=UPDATED_SINCE_HELP
    )


def updated_since_on(field_name: str) -> django_filters.IsoDateTimeFilter:
    """``updated_since`` for rows that never change after they are written (reviews, audit events)."""
    return django_filters.IsoDateTimeFilter(field_name=field_name, lookup_expr="gte", help_text=UPDATED_SINCE_HELP)


class StableOrderingFilter(OrderingFilter):
    """``?ordering=due_on`` with ``id`` appended in the same direction, so ties have a fixed order.

    Cursor pagination keys its cursor on the first field and steps over ties by an offset; that is
    only right if rows with the same value come back in the same order on every page.
    """

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        ordering = tuple(ordering)
        if {"id", "-id", "pk", "-pk"} & set(ordering):
            return ordering
        return (*ordering, "-id" if ordering[0].startswith("-") else "id")
