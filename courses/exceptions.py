"""Errors raised by services; interfaces turn them into a message or an HTTP status."""

from typing import Any


class ApplicationError(Exception):
    """The root of every domain error in Pathwise (other apps subclass it)."""

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PrerequisiteCycleError(ApplicationError):
    """Adding the prerequisite would close a cycle in the skill graph."""


class CourseStateError(ApplicationError):
    """The course is not in a state that allows the requested change."""


class GradingError(ApplicationError):
    """The answer does not have the shape the exercise kind expects."""
