"""Errors raised by learner services."""

from courses.exceptions import ApplicationError


class EnrollmentError(ApplicationError):
    """The learner cannot enrol in (or act within) this course."""


class AttemptError(ApplicationError):
    """The attempt cannot be recorded."""


class AttemptLimitError(AttemptError):
    """The exercise takes no more answers from this learner (an HTTP 409 in the API)."""


class LessonEventError(ApplicationError):
    """The lesson event cannot be recorded."""


class TeachingError(ApplicationError):
    """The request to teach or the teacher invitation cannot be made or used."""
