"""ETags on detail responses: 304 for a client that already has this version, 412 for a stale write.

The ETag is a hash of the representation itself, so it changes exactly when what the client
would see changes (including fields computed from other rows, like the project's lead).
"""

from __future__ import annotations

import hashlib

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "This object changed since you fetched it: fetch it again, then retry your change."
    default_code = "precondition_failed"


def etag_of(data) -> str:
    digest = hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:32]
    return f'W/"{digest}"'


def _listed(header: str) -> set[str]:
    """The ETags of an If-None-Match / If-Match header, compared weakly (RFC 9110)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def conditional_response(request, data, *, http_status: int = status.HTTP_200_OK) -> Response:
    """Answer with the data and its ETag, or 304 when the client's If-None-Match already names it."""
    etag = etag_of(data)
    wanted = request.headers.get("If-None-Match")
    if wanted and request.method in ("GET", "HEAD") and (wanted.strip() == "*" or etag[2:] in _listed(wanted)):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(data, status=http_status, headers={"ETag": etag})


def require_current(request, current_data) -> None:
    """Refuse a write whose If-Match names an older version than the one stored (lost update)."""
    wanted = request.headers.get("If-Match")
    if wanted and wanted.strip() != "*" and etag_of(current_data)[2:] not in _listed(wanted):
        raise PreconditionFailed()


class ConditionalRetrieveMixin:
    """A retrieve() that sends an ETag and answers If-None-Match with 304."""

    def retrieve(self, request, *args, **kwargs):
        return conditional_response(request, self.get_serializer(self.get_object()).data)
