"""Errors raised by adaptive services; interfaces turn them into a message or an HTTP status."""

from courses.exceptions import ApplicationError


class TrainingDataError(ApplicationError):
    """There are too few usable attempts or learners to train and judge a model."""


class ModelVersionStateError(ApplicationError):
    """The model version is not in a status that allows the requested change."""


class RollbackError(ApplicationError):
    """There is no earlier model version to roll back to."""


class ModelArtifactError(ApplicationError):
    """A model version's artifact is missing, tampered with or unreadable."""


class TrainingRunOpenError(ApplicationError):
    """The scope already has a queued or running training run (HTTP 409)."""


class TrainingRunRateError(ApplicationError):
    """Too many retrain requests for the course in the window (HTTP 429); see `retry_after`."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


class TaskQueueUnavailableError(ApplicationError):
    """The broker could not take the task now (HTTP 503); the request can be repeated."""
