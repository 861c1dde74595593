"""The recommendation: the next lesson for a learner, and why, from their learning path."""

from __future__ import annotations

from dataclasses import dataclass, field

from adaptive.models import LearningPath, PathStep
from adaptive.planning import reason_sentence
from adaptive.services.knowledge_state import learner_refresh
from courses.models import Course, Lesson, LessonBlock
from learners.models import User
from learners.selectors import lesson_completed_ids


@dataclass(frozen=True)
class Recommendation:
    user_id: int
    course_id: int
    next_lesson: Lesson | None
    reason: str
    reason_detail: dict = field(default_factory=dict)
    steps: list[PathStep] = field(default_factory=list)
    model_version_id: int | None = None


def _path_steps(user: User, course: Course) -> tuple[LearningPath, list[PathStep]]:
    path = LearningPath.objects.filter(user=user, course=course).first()
    if path is None:
        # No attempt has planned a path yet: plan one now from the learner's current state.
        learner_refresh(user_id=user.pk, course_id=course.pk, replan_always=True)
        path = LearningPath.objects.get(user=user, course=course)
    steps = list(
        PathStep.objects.filter(path=path)
        .select_related("lesson", "exercise", "skill")
        .order_by("position")
    )
    return path, steps


def _lesson_for_step(step: PathStep, course: Course) -> Lesson | None:
    if step.lesson_id is not None:
        return step.lesson
    if step.exercise_id is None:  # a step has a lesson or an exercise (a database constraint)
        return None
    block = (
        LessonBlock.objects.filter(exercise_id=step.exercise_id, lesson__module__course=course)
        .select_related("lesson")
        .order_by("lesson__module__position", "lesson__position")
        .first()
    )
    if block is not None:
        return block.lesson
    return (
        Lesson.objects.filter(module__course=course, skills=step.skill_id)
        .order_by("module__position", "position")
        .first()
    )


def _syllabus_next(user: User, course: Course, last_lesson: Lesson | None) -> Lesson | None:
    lessons = list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )
    done = lesson_completed_ids(user=user, course=course)
    start = 0
    if last_lesson is not None and last_lesson in lessons:
        start = lessons.index(last_lesson) + 1
    for lesson in lessons[start:] + lessons[:start]:
        if lesson.pk not in done and lesson != last_lesson:
            return lesson
    return None


def recommendation_get(
    *, user: User, course: Course, last_lesson: Lesson | None = None
) -> Recommendation:
    """The next lesson for the learner in the course, with the sentence that explains it."""
    path, steps = _path_steps(user, course)
    for step in steps:
        lesson = _lesson_for_step(step, course)
        # Learning the lesson just left is no next step; practising within it can be.
        if lesson is not None and (lesson != last_lesson or step.kind != PathStep.Kind.LESSON):
            return Recommendation(
                user_id=user.pk,
                course_id=course.pk,
                next_lesson=lesson,
                reason=reason_sentence(step.reason),
                reason_detail=step.reason,
                steps=steps,
                model_version_id=path.model_version_id,
            )
    lesson = _syllabus_next(user, course, last_lesson)
    reason = (
        "Every skill you are ready for is mastered: continue with the next lesson of the syllabus."
        if lesson is not None
        else "You have completed every lesson of this course."
    )
    return Recommendation(
        user_id=user.pk,
        course_id=course.pk,
        next_lesson=lesson,
        reason=reason,
        reason_detail={"kind": "syllabus"},
        steps=steps,
        model_version_id=path.model_version_id,
    )
