"""Reads of the adaptive loop's data for the web pages, tolerant of that data not existing yet.

A stopgap written before the adaptive loop (issue 4) landed: each function looks its model up
with `apps.get_model` and returns an empty result while the model is missing, so that the
dashboard and the class dashboard can say plainly "no learning path yet". The field names follow
ARCHITECTURE.md. When `adaptive.models` has SkillMastery, LearningPath/PathStep and ModelVersion,
replace this module with real selectors in `adaptive/selectors.py` and delete it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext

from adaptive.planning import reason_sentence


@dataclass(frozen=True)
class MasteryRow:
    skill_id: int
    skill_name: str
    probability: float


@dataclass(frozen=True)
class PathStepRow:
    position: int
    title: str
    url_kind: str  # "lesson" or "exercise"
    lesson_id: int | None
    reason: str


@dataclass(frozen=True)
class ModelVersionRow:
    id: int
    kind: str
    status: str
    auc: float | None
    created_at: datetime


@dataclass
class Heatmap:
    skills: list[tuple[int, str]] = field(default_factory=list)
    # user id -> skill id -> probability
    cells: dict[int, dict[int, float]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.cells


def _model(name: str) -> type[models.Model] | None:
    try:
        return apps.get_model("adaptive", name)
    except LookupError:
        return None


def adaptive_loop_is_available() -> bool:
    """True once the models that hold mastery and learning paths exist."""
    return _model("SkillMastery") is not None and _model("LearningPath") is not None


def mastery_list_for_user(*, user: Any, course_ids: Iterable[int]) -> list[MasteryRow]:
    """The user's mastery per skill in the given courses; empty until SkillMastery exists."""
    skill_mastery = _model("SkillMastery")
    if skill_mastery is None:
        return []
    rows = (
        skill_mastery.objects.filter(user=user, skill__course_id__in=list(course_ids))
        .order_by("skill__name")
        .values_list("skill_id", "skill__name", "probability")
    )
    return [MasteryRow(skill_id, name, float(probability)) for skill_id, name, probability in rows]


def learning_path_for_user(*, user: Any, course_id: int) -> list[PathStepRow]:
    """The user's current path steps in a course; empty until LearningPath exists."""
    learning_path = _model("LearningPath")
    path_step = _model("PathStep")
    if learning_path is None or path_step is None:
        return []
    steps = (
        path_step.objects.filter(path__user=user, path__course_id=course_id)
        .select_related("lesson", "exercise", "skill")
        .prefetch_related("exercise__blocks")
        .order_by("position")
    )
    result = []
    for step in steps:
        lesson, exercise = step.lesson, step.exercise
        lesson_id = lesson.pk if lesson else None
        if exercise is not None and lesson_id is None:
            blocks = list(exercise.blocks.all())
            lesson_id = blocks[0].lesson_id if blocks else None
        reason = step.reason if isinstance(step.reason, dict) else {}
        result.append(
            PathStepRow(
                position=step.position,
                title=lesson.title if lesson else str(exercise),
                url_kind="lesson" if lesson else "exercise",
                lesson_id=lesson_id,
                reason=reason_sentence(reason, gettext) if reason else "",
            )
        )
    return result


def mastery_heatmap(*, skills: Sequence[tuple[int, str]], user_ids: Sequence[int]) -> Heatmap:
    """Learners x skills mastery for a class; cells stay empty until SkillMastery exists."""
    heatmap = Heatmap(skills=list(skills))
    skill_mastery = _model("SkillMastery")
    if skill_mastery is None or not user_ids or not skills:
        return heatmap
    rows = skill_mastery.objects.filter(
        user_id__in=list(user_ids), skill_id__in=[skill_id for skill_id, _ in skills]
    ).values_list("user_id", "skill_id", "probability")
    for user_id, skill_id, probability in rows:
        heatmap.cells.setdefault(user_id, {})[skill_id] = float(probability)
    return heatmap


def model_version_list(*, course_id: int, limit: int = 20) -> list[ModelVersionRow]:
    """The course's (and global) model versions, oldest first; empty until ModelVersion exists."""
    model_version = _model("ModelVersion")
    if model_version is None:
        return []
    field_names = {f.name for f in model_version._meta.get_fields()}
    versions = model_version.objects.all()
    if "course" in field_names:
        versions = versions.filter(models.Q(course_id=course_id) | models.Q(course__isnull=True))
    newest = list(versions.order_by("-created_at")[:limit])
    rows = []
    for version in reversed(newest):
        metrics = getattr(version, "metrics", None) or {}
        auc = metrics.get("auc") if isinstance(metrics, dict) else None
        rows.append(
            ModelVersionRow(
                id=version.pk,
                kind=str(getattr(version, "kind", "")),
                status=str(getattr(version, "status", "")),
                auc=float(auc) if isinstance(auc, int | float) else None,
                created_at=version.created_at,
            )
        )
    return rows
