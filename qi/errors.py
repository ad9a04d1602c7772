"""The one domain error type that services raise, with kinds the API maps to status codes."""

from __future__ import annotations


class QIError(Exception):
    """A refused action, with a message a person can read."""

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}

    def __str__(self) -> str:
        return self.message


class QIValidationError(QIError):
    """Input is invalid (bad field values, patient identifiers, broken constraints)."""


class QINotFoundError(QIError):
    """The object is outside the actor's scope: they may not even know it exists (404, not 403)."""


class QIPermissionError(QIError):
    """The actor may see the object but may not take this action."""


class QITransitionError(QIError):
    """The object is not in a state that allows this action."""
