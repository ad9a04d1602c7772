"""One JSON shape for every error the API returns, and the mapping of domain errors to status codes.

    {"status": 400, "code": "invalid", "detail": "A sentence for a person.", "fields": {"aim": ["..."]}}

``fields`` is always present (empty when the error is not about fields). Domain errors from
``qi.services`` map as: validation 400, not found 404, permission 403, workflow transition 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from qi.errors import QIError, QINotFoundError, QIPermissionError, QITransitionError, QIValidationError

DOMAIN_STATUS = {
    QIValidationError: (status.HTTP_400_BAD_REQUEST, "invalid"),
    QINotFoundError: (status.HTTP_404_NOT_FOUND, "not_found"),
    QIPermissionError: (status.HTTP_403_FORBIDDEN, "permission_denied"),
    QITransitionError: (status.HTTP_409_CONFLICT, "conflict"),
}

NON_FIELD_KEYS = ("non_field_errors", "detail")


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"field": [...], "rows.3.value": [...]}."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                fields.setdefault(k, []).extend(v)
        return fields
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        fields = {}
        for index, item in enumerate(detail):
            if item:
                for k, v in _flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    fields.setdefault(k, []).extend(v)
        return fields
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(http_status: int, code: str, detail: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"status": http_status, "code": code, "detail": detail, "fields": fields or {}}


def _validation_body(exc: exceptions.ValidationError) -> dict:
    fields = _flatten(exc.detail)
    general = [message for key in NON_FIELD_KEYS for message in fields.pop(key, [])]
    if general:
        detail = " ".join(general)
    elif fields:
        first_field, messages = next(iter(fields.items()))
        detail = f"{first_field}: {messages[0]}" if len(fields) == 1 else "Some fields are not valid: see fields."
    else:
        detail = "The request is not valid."
    return error_body(status.HTTP_400_BAD_REQUEST, "invalid", detail, fields)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler, extended to domain errors and reshaped into the one error body."""
    if isinstance(exc, QIError):
        http_status, code = next(value for kind, value in DOMAIN_STATUS.items() if isinstance(exc, kind))
        # "__all__" is Django's key for an error about the whole object: it belongs in detail, which has it.
        fields = {name: [message] for name, message in exc.field_errors.items() if name != "__all__"}
        set_rollback()
        return Response(error_body(http_status, code, exc.message, fields), status=http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc)
    else:
        detail = (
            exc.detail if isinstance(exc.detail, str) else " ".join(_flatten(exc.detail).get("non_field_errors", []))
        )
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(exc.status_code, code, str(detail) or str(exc.default_detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
