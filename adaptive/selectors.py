"""Reads of the model registry: versions and training runs, per scope."""

from __future__ import annotations

from django.db.models import QuerySet

from adaptive.models import ModelVersion, TrainingRun
from courses.models import Course


def model_version_list(
    *, course: Course | None = None, all_scopes: bool = False, status: str | None = None
) -> QuerySet[ModelVersion]:
    """Model versions of one scope (a course, or global when ``course`` is None), newest first."""
    versions = ModelVersion.objects.select_related("course")
    if not all_scopes:
        versions = (
            versions.filter(course__isnull=True)
            if course is None
            else versions.filter(course=course)
        )
    if status is not None:
        versions = versions.filter(status=status)
    return versions.order_by("-created_at", "-pk")


def model_version_active(*, course: Course | None) -> ModelVersion | None:
    """The active version of exactly this scope (no fallback to the global model)."""
    return model_version_list(course=course, status=ModelVersion.Status.ACTIVE).first()


def training_run_list(*, course: Course | None = None, all_scopes: bool = False) -> QuerySet:
    """Training runs of one scope, newest first, with their model version."""
    runs = TrainingRun.objects.select_related("course", "model_version", "requested_by")
    if not all_scopes:
        runs = runs.filter(course__isnull=True) if course is None else runs.filter(course=course)
    return runs.order_by("-created_at", "-pk")
