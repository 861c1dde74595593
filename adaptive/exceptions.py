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
