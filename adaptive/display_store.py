"""Shown mastery in the database: the display state's reads and writes, and the thin selector
every page and endpoint uses to ask adaptive.display what a learner is shown.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max

from adaptive.display import DisplayConfig, DisplayGraph, DisplayState, ShownSkill, shown_mastery
from adaptive.models import LearnerState, MasteryDisplay, PathStep
from adaptive.planning import CourseGraph, reason_sentence
from adaptive.selectors import mastery_raw_for_learner, mastery_raw_load
from courses.models import LessonBlock, Skill, SkillPrerequisite
from learners.models import Attempt, Enrollment


def display_graph(graph: CourseGraph) -> DisplayGraph:
    return DisplayGraph(
        prerequisites={skill.id: tuple(skill.prerequisite_ids) for skill in graph.skills},
        names={skill.id: skill.name for skill in graph.skills},
    )


def display_graph_load(*, course_id: int) -> DisplayGraph:
    """The course's skills and direct prerequisites, by skill id (two small queries)."""
    requires: dict[int, list[int]] = defaultdict(list)
    for skill_id, requires_id in SkillPrerequisite.objects.filter(
        skill__course_id=course_id
    ).values_list("skill_id", "requires_id"):
        requires[skill_id].append(requires_id)
    names = dict(Skill.objects.filter(course_id=course_id).order_by("pk").values_list("pk", "name"))
    return DisplayGraph(
        prerequisites={pk: tuple(sorted(requires.get(pk, ()))) for pk in names}, names=names
    )


def display_config_default() -> DisplayConfig:
    """For learners with nothing folded yet (their values are all "not started" anyway)."""
    return DisplayConfig(threshold=settings.PATHWISE_MASTERY_THRESHOLD)


def display_states_load(*, course_id: int, user_ids: Sequence[int]) -> dict[int, DisplayState]:
    rows = MasteryDisplay.objects.filter(course_id=course_id, user_id__in=list(user_ids))
    return {
        user_id: DisplayState.from_json(state)
        for user_id, state in rows.values_list("user_id", "state")
    }


def display_states_save(
    *,
    course_id: int,
    states: Mapping[int, tuple[DisplayState, int | None]],
    now: datetime,
) -> None:
    """Upsert the learners' display states (user id -> (state, newest folded attempt id))."""
    if not states:
        return
    if connection.vendor == "postgresql":
        # One statement over arrays: a refresh upserts thousands per chunk, and the ORM's
        # per-object upsert cost more than planning them.
        # The table name comes from model metadata; every value is a parameter.
        upsert = (
            f"INSERT INTO {MasteryDisplay._meta.db_table}"  # noqa: S608
            " (user_id, course_id, state, last_attempt_id, updated_at)"
            " SELECT u, %s, s::jsonb, a, %s"
            " FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS t(u, s, a)"
            " ON CONFLICT (user_id, course_id) DO UPDATE SET state = EXCLUDED.state,"
            " last_attempt_id = EXCLUDED.last_attempt_id, updated_at = EXCLUDED.updated_at"
        )
        user_ids = list(states)
        with connection.cursor() as cursor:
            cursor.execute(
                upsert,
                [
                    course_id,
                    now,
                    user_ids,
                    [
                        json.dumps(states[user_id][0].to_json(), separators=(",", ":"))
                        for user_id in user_ids
                    ],
                    [states[user_id][1] for user_id in user_ids],
                ],
            )
        return
    MasteryDisplay.objects.bulk_create(
        [
            MasteryDisplay(
                user_id=user_id,
                course_id=course_id,
                state=state.to_json(),
                last_attempt_id=last_attempt_id,
                updated_at=now,
            )
            for user_id, (state, last_attempt_id) in states.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "course"],
        update_fields=["state", "last_attempt_id", "updated_at"],
        batch_size=1000,
    )


@dataclass(frozen=True)
class LearnerShown:
    """One learner's shown mastery in one course, and whether newer answers are still pending."""

    course_id: int
    skills: list[ShownSkill]  # by skill name
    updating: bool
    updated_at: datetime | None
    # The worker has applied every answer, but the shown mastery was not re-planned from them
    # (attempts imported in bulk, or stored before shown mastery existed): a re-plan catches up.
    needs_replan: bool = False


def learner_shown(*, user_id: int, course_id: int) -> LearnerShown:
    """What the learner is shown in the course now (every skill, started or not)."""
    graph = display_graph_load(course_id=course_id)
    row = (
        MasteryDisplay.objects.filter(user_id=user_id, course_id=course_id)
        .values("state", "last_attempt_id", "updated_at")
        .first()
    )
    state = DisplayState.from_json(row["state"] if row else None)
    raw = mastery_raw_for_learner(user_id=user_id, course_id=course_id)
    newest = Attempt.objects.filter(user_id=user_id, course_id=course_id).aggregate(
        newest=Max("pk")
    )["newest"]
    folded = row["last_attempt_id"] if row else None
    behind = newest is not None and (folded is None or folded < newest)
    applied = (
        LearnerState.objects.filter(user_id=user_id, course_id=course_id)
        .values_list("last_attempt_id", flat=True)
        .first()
    )
    shown = shown_mastery(state, raw, graph, state.config(display_config_default()))
    return LearnerShown(
        course_id=course_id,
        skills=sorted(shown.values(), key=lambda item: (item.name, item.skill_id)),
        updating=behind,
        updated_at=row["updated_at"] if row else None,
        needs_replan=behind and applied is not None and newest is not None and applied >= newest,
    )


def class_shown(*, course_id: int, user_ids: Sequence[int]) -> dict[int, dict[int, ShownSkill]]:
    """Shown mastery of many learners of a course (the class heatmap), in four queries."""
    graph = display_graph_load(course_id=course_id)
    default = display_config_default()
    states = display_states_load(course_id=course_id, user_ids=user_ids)
    raw = mastery_raw_load(course_id=course_id, user_ids=user_ids)
    return {
        user_id: shown_mastery(state, raw[user_id], graph, state.config(default))
        for user_id in user_ids
        for state in [states.get(user_id, DisplayState())]
    }


@dataclass(frozen=True)
class NextStep:
    position: int
    kind: str  # "lesson", "exercise" or "review"
    title: str
    skill: str
    lesson_id: int | None  # the lesson page the step opens
    exercise_id: int | None  # the exercise on that page (anchor "#exercise-<id>")
    sentence: str

    @property
    def anchor(self) -> str:
        return f"exercise-{self.exercise_id}" if self.exercise_id else ""


def exercise_lessons(*, exercise_ids: set[int]) -> dict[int, int]:
    """exercise id -> the first lesson (syllabus order) whose page holds it."""
    lessons: dict[int, int] = {}
    for exercise_id, lesson_id in (
        LessonBlock.objects.filter(exercise_id__in=exercise_ids)
        .order_by("lesson__module__position", "lesson__position", "position")
        .values_list("exercise_id", "lesson_id")
    ):
        lessons.setdefault(exercise_id, lesson_id)
    return lessons


def learner_next_steps(
    *, user_id: int, course_id: int, gettext: Callable[[str], str] = lambda text: text
) -> list[NextStep]:
    """The learner's planned steps in a course, each with its target and its sentence."""
    steps = list(
        PathStep.objects.filter(path__user_id=user_id, path__course_id=course_id)
        .select_related("lesson", "exercise", "skill")
        .order_by("position")
    )
    lessons = exercise_lessons(exercise_ids={s.exercise_id for s in steps if s.exercise_id})
    return [
        NextStep(
            position=step.position,
            kind=step.kind,
            title=step.lesson.title if step.lesson else str(step.exercise),
            skill=step.skill.name,
            lesson_id=step.lesson_id or lessons.get(step.exercise_id or 0),
            exercise_id=step.exercise_id,
            sentence=reason_sentence(step.reason, gettext) if step.reason else "",
        )
        for step in steps
    ]


def learner_course_ids(*, user_id: int, course_id: int | None = None) -> list[int]:
    """The learner's active enrolments' course ids, by course title (optionally one course)."""
    enrollments = Enrollment.objects.filter(user_id=user_id).exclude(
        status=Enrollment.Status.DROPPED
    )
    if course_id is not None:
        enrollments = enrollments.filter(course_id=course_id)
    return list(enrollments.order_by("course__title").values_list("course_id", flat=True))


def shown_raw(*, user_id: int, course_id: int) -> dict[int, float]:
    """The model's raw estimate per skill (for the API's `model_probability`, never a bar)."""
    return {
        skill_id: round(probability, 4)
        for skill_id, probability in mastery_raw_for_learner(
            user_id=user_id, course_id=course_id
        ).items()
    }
