"""Cursor pagination for phones: stable under inserts, no COUNT query, page size chosen by the client.

Every list page also says ``sync_time``: the value to send as ``updated_since`` on the next sync.
It reaches back ``API_SYNC_OVERLAP_SECONDS`` before the page was read, so a row whose transaction
was still open at that moment is fetched next time; clients upsert by id, so repeats are harmless.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class SyncCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    ordering = ("-updated_at", "-id")

    def paginate_queryset(self, queryset, request, view=None):
        # Read when used, so settings overrides apply.
        self.page_size = settings.API_PAGE_SIZE
        self.max_page_size = settings.API_MAX_PAGE_SIZE
        self.sync_time = timezone.now() - dt.timedelta(seconds=settings.API_SYNC_OVERLAP_SECONDS)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "sync_time": self.sync_time,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["sync_time"] = {
            "type": "string",
            "format": "date-time",
            "description": "Send this as updated_since on the next sync of this list.",
            "example": "2026-11-25T09:30:00Z",
        }
        response["required"] = ["results", "sync_time"]
        return response
