"""Argument parsing shared by the model-registry commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from adaptive.models import ModelVersion
from courses.models import Course


def course_from_argument(value: str | None) -> Course | None:
    """``--course`` as a slug or a numeric id; None (the global scope) when omitted."""
    if value is None or value == "":
        return None
    course = (
        Course.objects.filter(pk=int(value)).first()
        if value.isdigit()
        else Course.objects.filter(slug=value).first()
    )
    if course is None:
        raise CommandError(f"No course with slug or id {value!r}.")
    return course


def model_version_from_argument(value: int) -> ModelVersion:
    """A model version by id, or a CommandError naming the id."""
    version = ModelVersion.objects.select_related("course").filter(pk=value).first()
    if version is None:
        raise CommandError(f"No model version with id {value}.")
    return version


def scope_label(course: Course | None) -> str:
    """Human name of a scope."""
    return "global" if course is None else f"course {course.slug}"
