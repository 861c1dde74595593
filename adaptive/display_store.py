"""Shown mastery in the database: the display state's reads and writes, and the thin selector
every page and endpoint uses to ask adaptive.display what a learner is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max

from adaptive.display import DisplayConfig, DisplayGraph, DisplayState, ShownSkill, shown_mastery
from adaptive.models import MasteryDisplay, SkillMastery
from adaptive.planning import CourseGraph
from courses.models import Skill, SkillPrerequisite
from learners.models import Attempt


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


def learner_shown(*, user_id: int, course_id: int) -> LearnerShown:
    """What the learner is shown in the course now (every skill, started or not)."""
    graph = display_graph_load(course_id=course_id)
    row = (
        MasteryDisplay.objects.filter(user_id=user_id, course_id=course_id)
        .values("state", "last_attempt_id", "updated_at")
        .first()
    )
    state = DisplayState.from_json(row["state"] if row else None)
    raw = dict(
        SkillMastery.objects.filter(user_id=user_id, course_id=course_id).values_list(
            "skill_id", "probability"
        )
    )
    newest = Attempt.objects.filter(user_id=user_id, course_id=course_id).aggregate(
        newest=Max("pk")
    )["newest"]
    folded = row["last_attempt_id"] if row else None
    shown = shown_mastery(state, raw, graph, state.config(display_config_default()))
    return LearnerShown(
        course_id=course_id,
        skills=sorted(shown.values(), key=lambda item: (item.name, item.skill_id)),
        updating=newest is not None and (folded is None or folded < newest),
        updated_at=row["updated_at"] if row else None,
    )


def class_shown(*, course_id: int, user_ids: Sequence[int]) -> dict[int, dict[int, ShownSkill]]:
    """Shown mastery of many learners of a course (the class heatmap), in four queries."""
    graph = display_graph_load(course_id=course_id)
    default = display_config_default()
    states = display_states_load(course_id=course_id, user_ids=user_ids)
    raw: dict[int, dict[int, float]] = defaultdict(dict)
    for user_id, skill_id, probability in SkillMastery.objects.filter(
        course_id=course_id, user_id__in=list(user_ids)
    ).values_list("user_id", "skill_id", "probability"):
        raw[user_id][skill_id] = probability
    return {
        user_id: shown_mastery(state, raw[user_id], graph, state.config(default))
        for user_id in user_ids
        for state in [states.get(user_id, DisplayState())]
    }
