"""The learning-path planner: pure functions over dataclasses, no database and no model code.

Given a course's skill graph, lessons and exercises, and one learner's per-skill mastery, it
chooses at most K next steps and records why each was chosen:

It plans on the *shown* mastery (adaptive.display), so that what a step's sentence says is what
the student's bars say: "mastered" is the shown status, numbers are the shown percent.

1. "Ready to learn" skills: every prerequisite shown mastered, the skill itself not. They are
   ranked by expected gain (how far the skill is from mastery, weighted by how many later skills
   it unlocks), ties broken by prerequisite order.
2. For each ready skill: the lesson that teaches it if the learner has not completed it (lessons
   come before practice), then exercises not yet answered right whose predicted success lies in
   the desirable-difficulty band (unseen ones first). An exercise answered right comes back only
   as a review: when the skill has no unsolved exercise left and it was solved at least
   `repeat_after` ago (if the skill is still "learning", its lesson comes back first), or when
   spaced review of a mastered skill is due. Wrong answers on a skill lower its priority.
3. Spaced review of mastered skills that were not practised for a while.

Every step carries a reason dict (shown mastery and status, threshold, prerequisite-of,
predicted success) and `reason_sentence` renders it for the student.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TypeVar

from adaptive.display import (
    LEARNING,
    MASTERED,
    NOT_STARTED,
    DisplayConfig,
    chance_phrase,
    percent_of,
    status_of,
)
from courses.graph import topological_order

STEP_LESSON = "lesson"
STEP_EXERCISE = "exercise"
STEP_REVIEW = "review"


@dataclass(frozen=True)
class SkillNode:
    id: int
    name: str
    prerequisite_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class LessonNode:
    id: int
    title: str
    skill_ids: tuple[int, ...]
    order: int


@dataclass(frozen=True)
class ExerciseNode:
    id: int
    title: str
    skill_ids: tuple[int, ...]


@dataclass(frozen=True)
class CourseGraph:
    """What the planner needs to know about a course, in syllabus order."""

    skills: tuple[SkillNode, ...]
    lessons: tuple[LessonNode, ...] = ()
    exercises: tuple[ExerciseNode, ...] = ()


@dataclass(frozen=True)
class LearnerSnapshot:
    """One learner's knowledge state and history, as the planner sees it.

    `mastery` is the shown mastery (adaptive.display) of every started skill; a skill missing
    from it is not started. The streak rule is already folded into it.
    """

    mastery: Mapping[int, float]
    predicted_success: Mapping[int, float] = field(default_factory=dict)
    completed_lesson_ids: frozenset[int] = frozenset()
    attempted_exercise_ids: frozenset[int] = frozenset()
    last_practised: Mapping[int, datetime] = field(default_factory=dict)
    # exercise id -> when the learner last answered it right
    solved_at: Mapping[int, datetime] = field(default_factory=dict)
    # skill id -> names of its weak prerequisites while it is shown mastered (display's caveat)
    caveats: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # lesson id -> when the learner last completed it
    lesson_read_at: Mapping[int, datetime] = field(default_factory=dict)
    # skill id -> the learner's wrong answers on it (wheel-spinning: others go first meanwhile)
    wrong: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannerConfig:
    mastery_threshold: float = 0.95
    mastery_streak: int = 3
    band_low: float = 0.5
    band_high: float = 0.85
    max_steps: int = 5
    exercises_per_skill: int = 2
    review_after: timedelta = timedelta(days=7)
    # An exercise answered right returns no sooner than this, and only as a review step.
    repeat_after: timedelta = timedelta(hours=1)
    max_reviews: int = 1
    # Every `spin_after` wrong answers on a skill halve its priority, so that a learner who
    # keeps failing one skill works on another ready one meanwhile instead of spinning wheels
    # (Beck & Gong 2013); the syllabus order does the same with its "move on after 8 tries".
    spin_after: int = 4

    @cached_property
    def display(self) -> DisplayConfig:
        # Cached: the planner asks for it for every skill of every learner.
        return DisplayConfig(threshold=self.mastery_threshold, streak=self.mastery_streak)


@dataclass(frozen=True)
class PlannedStep:
    position: int
    kind: str
    skill_id: int
    lesson_id: int | None = None
    exercise_id: int | None = None
    reason: dict = field(default_factory=dict)


def skill_order(skills: Sequence[SkillNode]) -> list[int]:
    """Skill ids in prerequisite order (courses.graph; ties in the given order)."""
    position = {skill.id: index for index, skill in enumerate(skills)}
    return topological_order(
        {skill.id: [p for p in skill.prerequisite_ids if p in position] for skill in skills},
        key=position.__getitem__,
    )


def dependents_map(skills: Sequence[SkillNode]) -> dict[int, list[int]]:
    """skill id -> ids of the skills that list it as a direct prerequisite."""
    dependents: dict[int, list[int]] = {skill.id: [] for skill in skills}
    for skill in skills:
        for prerequisite in skill.prerequisite_ids:
            if prerequisite in dependents:
                dependents[prerequisite].append(skill.id)
    return dependents


def _descendant_count(skill_id: int, dependents: Mapping[int, list[int]]) -> int:
    seen: set[int] = set()
    stack = list(dependents.get(skill_id, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(dependents.get(current, ()))
    return len(seen)


@dataclass(frozen=True)
class GraphFacts:
    """What every plan of one course shares: skill ranks, dependents, lessons by skill."""

    rank: dict[int, int]
    dependents: dict[int, list[int]]
    descendants: dict[int, int]
    names: dict[int, str]
    lessons_by_skill: dict[int, tuple[LessonNode, ...]]
    exercises_by_skill: dict[int, tuple[ExerciseNode, ...]]
    # Skills without prerequisites, and every listed prerequisite id (in the graph or not) ->
    # the skills listing it: a ready skill is one of the first or a dependent of a mastered one.
    roots: tuple[SkillNode, ...] = ()
    listed_by: dict[int, tuple[SkillNode, ...]] = field(default_factory=dict)


_facts_cache: dict[int, tuple[CourseGraph, GraphFacts]] = {}
_Node = TypeVar("_Node", LessonNode, ExerciseNode)


def graph_facts(graph: CourseGraph) -> GraphFacts:
    """Facts about a course graph, computed once per graph object (graphs are immutable)."""
    # Keyed by identity: hashing a whole graph on every plan costs more than planning.
    cached = _facts_cache.get(id(graph))
    if cached is not None and cached[0] is graph:
        return cached[1]
    if len(_facts_cache) > 64:
        _facts_cache.clear()
    facts = _graph_facts_compute(graph)
    _facts_cache[id(graph)] = (graph, facts)
    return facts


def _by_skill(skills: Sequence[SkillNode], nodes: Sequence[_Node]) -> dict[int, tuple[_Node, ...]]:
    """skill id -> the nodes (lessons or exercises) that list it, in the given order.

    One pass over the nodes (a course of 1,223 skills has 2,446 exercises: skills x exercises
    was seconds per graph).
    """
    found: dict[int, list[_Node]] = {skill.id: [] for skill in skills}
    for node in nodes:
        for skill_id in dict.fromkeys(node.skill_ids):
            if skill_id in found:
                found[skill_id].append(node)
    return {skill_id: tuple(listed) for skill_id, listed in found.items()}


def _graph_facts_compute(graph: CourseGraph) -> GraphFacts:
    dependents = dependents_map(graph.skills)
    listing: dict[int, list[SkillNode]] = {}
    for skill in graph.skills:
        for prerequisite in dict.fromkeys(skill.prerequisite_ids):
            listing.setdefault(prerequisite, []).append(skill)
    listed_by = {prerequisite: tuple(skills) for prerequisite, skills in listing.items()}
    lessons = sorted(graph.lessons, key=lambda lesson: lesson.order)
    return GraphFacts(
        rank={sid: index for index, sid in enumerate(skill_order(graph.skills))},
        dependents=dependents,
        descendants={skill.id: _descendant_count(skill.id, dependents) for skill in graph.skills},
        names={skill.id: skill.name for skill in graph.skills},
        lessons_by_skill=_by_skill(graph.skills, lessons),
        exercises_by_skill=_by_skill(graph.skills, graph.exercises),
        roots=tuple(skill for skill in graph.skills if not skill.prerequisite_ids),
        listed_by=listed_by,
    )


def skill_status(skill_id: int, learner: LearnerSnapshot, config: PlannerConfig) -> str:
    """The shown status of a skill (the streak rule is folded into the shown value)."""
    return status_of(learner.mastery.get(skill_id), config.display)


def skill_is_mastered(skill_id: int, learner: LearnerSnapshot, config: PlannerConfig) -> bool:
    """Mastered exactly when the student's bar says "mastered" (one rounding, one threshold)."""
    return skill_status(skill_id, learner, config) == MASTERED


def mastered_skills(learner: LearnerSnapshot, config: PlannerConfig) -> frozenset[int]:
    """Ids of the skills shown mastered (`skill_is_mastered` of every skill, in one pass over
    the started skills: a skill not started is never mastered)."""
    return frozenset(
        skill_id
        for skill_id, value in learner.mastery.items()
        if status_of(value, config.display) == MASTERED
    )


def ready_skills(
    graph: CourseGraph,
    learner: LearnerSnapshot,
    config: PlannerConfig,
    *,
    mastered: frozenset[int] | None = None,
) -> list[tuple[int, float]]:
    """(skill id, expected gain) of every ready-to-learn skill, best first."""
    facts = graph_facts(graph)
    threshold = config.mastery_threshold
    if mastered is None:
        mastered = mastered_skills(learner, config)
    ready: list[tuple[int, float]] = []
    # Only skills without prerequisites and dependents of mastered skills can be ready: on a
    # course of a thousand skills that is a few dozen to look at, not every skill.
    candidates = dict.fromkeys(facts.roots)
    for mastered_id in mastered:
        candidates.update(dict.fromkeys(facts.listed_by.get(mastered_id, ())))
    for skill in candidates:
        if skill.id in mastered:
            continue
        if not all(p in mastered for p in skill.prerequisite_ids):
            continue
        own = learner.mastery.get(skill.id, 0.0)
        # Closing a gap on a skill that unlocks many later skills is worth more.
        gain = max(threshold - own, 0.0) * (1.0 + 0.5 * facts.descendants[skill.id])
        if config.spin_after > 0:
            gain *= 0.5 ** (learner.wrong.get(skill.id, 0) // config.spin_after)
        ready.append((skill.id, gain))
    ready.sort(key=lambda item: (-round(item[1], 9), facts.rank[item[0]]))
    return ready


def _success(learner: LearnerSnapshot, exercise: ExerciseNode) -> float:
    if exercise.id in learner.predicted_success:
        return float(learner.predicted_success[exercise.id])
    values = [learner.mastery.get(sid, 0.0) for sid in exercise.skill_ids]
    return sum(values) / len(values) if values else 0.0


def _band_exercises(
    exercises: Sequence[ExerciseNode], learner: LearnerSnapshot, config: PlannerConfig
) -> list[tuple[ExerciseNode, float]]:
    """Exercises in the desirable-difficulty band, unseen first, then nearest the band's middle.

    When none lies in the band, the one nearest to it is offered so the skill is never stuck.
    """
    middle = (config.band_low + config.band_high) / 2
    scored = [(exercise, _success(learner, exercise)) for exercise in exercises]
    in_band = [pair for pair in scored if config.band_low <= pair[1] <= config.band_high]
    pool = (
        in_band
        or sorted(
            scored,
            key=lambda pair: min(abs(pair[1] - config.band_low), abs(pair[1] - config.band_high)),
        )[:1]
    )
    return sorted(
        pool,
        key=lambda pair: (
            pair[0].id in learner.attempted_exercise_ids,
            abs(pair[1] - middle),
            pair[0].id,
        ),
    )


def _solved_recently(
    exercise: ExerciseNode, learner: LearnerSnapshot, config: PlannerConfig, now: datetime | None
) -> bool:
    solved = learner.solved_at.get(exercise.id)
    if solved is None:
        return False
    return now is None or now - solved < config.repeat_after


def _lesson_to_reread(
    skill_id: int, learner: LearnerSnapshot, facts: GraphFacts, config: PlannerConfig
) -> LessonNode | None:
    """The skill's completed lesson, when the skill is still "learning" and was practised
    since the lesson was last read (else the lesson was just reread: practise first)."""
    if skill_status(skill_id, learner, config) != LEARNING:
        return None
    practised = learner.last_practised.get(skill_id)
    for lesson in facts.lessons_by_skill.get(skill_id, ()):
        read = learner.lesson_read_at.get(lesson.id)
        if read is not None and practised is not None and practised > read:
            return lesson
    return None


def plan_build(
    graph: CourseGraph,
    learner: LearnerSnapshot,
    config: PlannerConfig | None = None,
    *,
    now: datetime | None = None,
) -> list[PlannedStep]:
    """At most `config.max_steps` next steps for one learner, each with its reason."""
    config = config or PlannerConfig()
    facts = graph_facts(graph)
    names, dependents = facts.names, facts.dependents
    mastered = mastered_skills(learner, config)
    steps: list[PlannedStep] = []
    used_exercises: set[int] = set()

    def add(kind: str, skill_id: int, reason: dict, **target: int) -> bool:
        steps.append(
            PlannedStep(
                position=len(steps) + 1, kind=kind, skill_id=skill_id, reason=reason, **target
            )
        )
        return len(steps) >= config.max_steps

    def base_reason(kind: str, skill_id: int) -> dict:
        value = learner.mastery.get(skill_id)
        reason = {
            "kind": kind,
            "skill": names[skill_id],
            "skill_id": skill_id,
            "status": skill_status(skill_id, learner, config),
            "mastery": round(float(value or 0.0), 4),
            # The bar's number, rounded once here: re-rounding the 4-place mastery could differ.
            "percent": None if value is None else percent_of(value),
            "threshold": config.mastery_threshold,
            "prerequisite_of": [names[d] for d in dependents.get(skill_id, [])],
        }
        if learner.caveats.get(skill_id):
            reason["caveat"] = list(learner.caveats[skill_id])
        return reason

    for skill_id, gain in ready_skills(graph, learner, config, mastered=mastered):
        lesson = next(
            (
                lesson
                for lesson in facts.lessons_by_skill.get(skill_id, ())
                if lesson.id not in learner.completed_lesson_ids
            ),
            None,
        )
        if lesson is not None:
            reason = {
                **base_reason(STEP_LESSON, skill_id),
                "expected_gain": round(gain, 4),
                "lesson": lesson.title,
            }
            if add(STEP_LESSON, skill_id, reason, lesson_id=lesson.id):
                return steps
        of_skill = [
            exercise
            for exercise in facts.exercises_by_skill.get(skill_id, ())
            if exercise.id not in used_exercises
        ]
        unsolved = [e for e in of_skill if e.id not in learner.solved_at]
        for exercise, success in _band_exercises(unsolved, learner, config)[
            : config.exercises_per_skill
        ]:
            used_exercises.add(exercise.id)
            reason = {
                **base_reason(STEP_EXERCISE, skill_id),
                "expected_gain": round(gain, 4),
                "exercise": exercise.title,
                "predicted_success": round(success, 4),
                "band": [config.band_low, config.band_high],
                "seen": exercise.id in learner.attempted_exercise_ids,
            }
            if add(STEP_EXERCISE, skill_id, reason, exercise_id=exercise.id):
                return steps
        relearn = _lesson_to_reread(skill_id, learner, facts, config) if not unsolved else None
        if relearn is not None:
            # Every exercise is solved, yet the answers still say "learning": practising the
            # same exercises again teaches little, so the lesson comes back first, as a review.
            reason = {**base_reason(STEP_REVIEW, skill_id), "lesson": relearn.title}
            if add(STEP_REVIEW, skill_id, reason, lesson_id=relearn.id):
                return steps
        elif not unsolved:
            # Every exercise of the skill is solved but the skill is not mastered yet: the one
            # solved longest ago comes back, as a review, once it is not fresh in memory.
            due = sorted(
                (learner.solved_at[e.id], e.id, e)
                for e in of_skill
                if not _solved_recently(e, learner, config, now)
            )
            if due:
                solved, _id, exercise = due[0]
                used_exercises.add(exercise.id)
                reason = {
                    **base_reason(STEP_REVIEW, skill_id),
                    "exercise": exercise.title,
                    "predicted_success": round(_success(learner, exercise), 4),
                    "again": True,
                }
                if now is not None:
                    reason["days_since_practice"] = (now - solved).days
                if add(STEP_REVIEW, skill_id, reason, exercise_id=exercise.id):
                    return steps

    if not steps:
        # Nothing can be done on the ready skills right now (every exercise just solved): go on
        # with the syllabus' next lesson not completed, as a course without adaptivity would.
        lesson = next(
            (
                lesson
                for lesson in sorted(graph.lessons, key=lambda item: item.order)
                if lesson.id not in learner.completed_lesson_ids
                and not all(s in mastered for s in lesson.skill_ids)
                and any(s in names for s in lesson.skill_ids)
            ),
            None,
        )
        if lesson is not None:
            skill_id = next(s for s in lesson.skill_ids if s in names)
            reason = {**base_reason(STEP_LESSON, skill_id), "lesson": lesson.title, "next": True}
            if add(STEP_LESSON, skill_id, reason, lesson_id=lesson.id):
                return steps
        else:
            # Not even a lesson is left: rather than an empty path, the exercise of a ready
            # skill solved longest ago, however recently, as a review that says so.
            last_resort = sorted(
                (learner.solved_at[e.id], e.id, e, skill_id)
                for skill_id, _gain in ready_skills(graph, learner, config, mastered=mastered)
                for e in facts.exercises_by_skill.get(skill_id, ())
                if e.id in learner.solved_at
            )
            if last_resort:
                _when, _id, exercise, skill_id = last_resort[0]
                reason = {
                    **base_reason(STEP_REVIEW, skill_id),
                    "exercise": exercise.title,
                    "predicted_success": round(_success(learner, exercise), 4),
                    "again": True,
                    "only": True,
                }
                if add(STEP_REVIEW, skill_id, reason, exercise_id=exercise.id):
                    return steps

    if now is not None and config.max_reviews > 0:
        # Over the mastered skills, not every skill of the course (a thousand on an imported
        # course); the sort key decides the order either way.
        practised_mastered = sorted(
            (practised, skill_id)
            for skill_id in mastered
            if skill_id in names and (practised := learner.last_practised.get(skill_id)) is not None
        )
        stale = [pair for pair in practised_mastered if now - pair[0] >= config.review_after]
        due_now = bool(stale)
        if not steps and not stale:
            # Nothing left to learn and nothing due: keep the oldest skill fresh meanwhile.
            stale = practised_mastered
        for practised, skill_id in stale[: config.max_reviews]:
            exercises = [
                e
                for e in facts.exercises_by_skill.get(skill_id, ())
                if due_now or not _solved_recently(e, learner, config, now)
            ]
            if not exercises:
                continue
            exercise = min(
                exercises, key=lambda e: (e.id in used_exercises, _success(learner, e), e.id)
            )
            reason = {
                **base_reason(STEP_REVIEW, skill_id),
                "exercise": exercise.title,
                "predicted_success": round(_success(learner, exercise), 4),
                "days_since_practice": (now - practised).days,
                "due": due_now,
            }
            if add(STEP_REVIEW, skill_id, reason, exercise_id=exercise.id):
                return steps
    return steps


def _percent(value: float) -> str:
    return f"{percent_of(value)}%"


def reason_sentence(reason: Mapping, gettext: Callable[[str], str] = lambda text: text) -> str:
    """One sentence a student reads next to a step, in the language `gettext` translates to.

    Numbers are the shown percent (one rounding, as on the bars) and the status words are the
    bars' statuses; reasons stored before the status was recorded get it from their mastery.
    """
    _ = gettext
    threshold = float(reason.get("threshold", 0.95))
    mastery = float(reason.get("mastery", 0.0))
    status = reason.get("status") or status_of(mastery, DisplayConfig(threshold=threshold))
    success = percent_of(float(reason.get("predicted_success", 0.0)))
    values = {
        "skill": reason.get("skill", ""),
        "exercise": reason.get("exercise", ""),
        "lesson": reason.get("lesson", ""),
        "mastery": f"{reason['percent']}%"
        if reason.get("percent") is not None
        else _percent(mastery),
        "threshold": _percent(threshold),
        "unlocks": ", ".join(reason.get("prerequisite_of", [])),
        "success": f"{success}%",
        "chance": chance_phrase(success, gettext),
        "days": reason.get("days_since_practice", 0),
        "weak": ", ".join(reason.get("caveat", [])),
    }
    kind = reason.get("kind")
    if kind == STEP_REVIEW and status == MASTERED:
        if reason.get("due", True) and values["days"]:
            text = _("Review %(skill)s: you mastered it, but last practised it %(days)s days ago.")
        else:
            text = _("Review %(skill)s: you mastered it; a quick check keeps it fresh.")
        if values["weak"]:
            text += " " + _(
                "Your answers show it, although its prerequisite %(weak)s is not mastered yet: "
                "practise that too."
            )
    elif kind == STEP_REVIEW and reason.get("lesson"):
        text = _(
            "Review the lesson %(lesson)s: you solved every exercise of %(skill)s, but your "
            "answers are not steady yet (mastery %(mastery)s, goal %(threshold)s)."
        )
    elif kind == STEP_REVIEW and reason.get("only"):
        text = _(
            "Review %(exercise)s: nothing new is open to you right now, and one more right "
            "answer on %(skill)s (mastery %(mastery)s, goal %(threshold)s) shows it stuck."
        )
    elif kind == STEP_REVIEW:
        text = _(
            "Review %(exercise)s: you solved every exercise of %(skill)s once (mastery "
            "%(mastery)s, goal %(threshold)s); one more right answer shows it stuck."
        )
    elif kind == STEP_LESSON and reason.get("next"):
        text = _(
            "Go on with the lesson %(lesson)s: you have answered every exercise available for "
            "now, and the ones you solved come back for review later."
        )
    elif kind == STEP_LESSON and status == NOT_STARTED:
        text = _("Start %(skill)s with this lesson: you have not practised it yet.")
    elif kind == STEP_LESSON:
        text = _(
            "Learn %(skill)s with this lesson: your mastery is %(mastery)s and the goal is "
            "%(threshold)s."
        )
    elif status == NOT_STARTED:
        text = _(
            "Practise %(skill)s (not started yet, goal %(threshold)s): we predict a %(success)s "
            "chance you get this right, %(chance)s."
        )
    else:
        text = _(
            "Practise %(skill)s (mastery %(mastery)s, goal %(threshold)s): we predict a "
            "%(success)s chance you get this right, %(chance)s."
        )
    sentence = text % values
    if kind != STEP_REVIEW and values["unlocks"]:
        sentence += " " + _("It is a prerequisite of %(unlocks)s.") % values
    return sentence
