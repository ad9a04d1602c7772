"""Client-chosen ordering that cursor pagination can page through without skipping or repeating rows."""

from __future__ import annotations

from rest_framework.filters import OrderingFilter


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
