"""Simulated students with different assumptions, for judging teaching policies robustly.

One student model flatters the policies built on its own assumptions: the model of
`learners.demo.simulation` learns from any practice, the same way BKT assumes. Doroudi, Aleven and
Brunskill (2017, "Robust evaluation matrix") judge an instructional policy on several student
models at once. Each model here is a "world" with one interface (`study`, `answer`, `tick`,
`p_correct`, `known`), so a benchmark can run every policy in every world:

- `PracticeWorld`: `learners.demo.simulation` as it is (lessons teach nothing, practice teaches at
  the learner's learn rate, prerequisites first, slips and guesses), plus a little forgetting.
- `LessonsWorld`: other assumptions, the ones the issue names:
  * lessons matter: reading a skill's lesson may teach it outright, and practice without the
    lesson teaches at a fraction of the rate (`untaught_factor`);
  * repeating an exercise teaches less: each earlier attempt on the same exercise multiplies
    what it teaches by `repeat_factor`;
  * forgetting: a known skill is forgotten with a probability that falls with each practice of
    it after it was learnt (spaced practice protects);
  * conjunctive multi-skill items: right only when every skill is known, and one practice
    teaches at most one unknown skill of the item (the most basic one).

Plain Python and NumPy, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from learners.demo.simulation import (
    LearnerState,
    SimulatedItem,
    practice_apply,
    prerequisites_order,
    response_probability,
)

SkillKey = int


@dataclass(frozen=True)
class SimulatedLesson:
    key: int
    skills: tuple[SkillKey, ...]


class PracticeWorld:
    """The existing simulator's student (BKT-like): lessons teach nothing."""

    name = "practice"
    has_lessons = False

    def __init__(
        self,
        state: LearnerState,
        prerequisites: Mapping[SkillKey, Iterable[SkillKey]],
        rng: np.random.Generator,
        *,
        forget_per_step: float = 0.003,
    ) -> None:
        self.state, self.prerequisites, self.rng = state, prerequisites, rng
        self.forget_per_step = forget_per_step

    def known(self) -> set[SkillKey]:
        return self.state.mastered

    def p_correct(self, item: SimulatedItem) -> float:
        return response_probability(self.state, item)

    def study(self, lesson: SimulatedLesson) -> None:
        """Lessons are not part of this model: the step passes, nothing is learnt."""

    def answer(self, item: SimulatedItem) -> bool:
        correct = bool(self.rng.random() < self.p_correct(item))
        practice_apply(self.state, item, self.prerequisites, self.rng)
        return correct

    def tick(self) -> None:
        for skill in sorted(self.state.mastered):
            if self.rng.random() < self.forget_per_step:
                self.state.mastered.discard(skill)


@dataclass(frozen=True)
class LessonsParameters:
    lesson_learn: float = 0.45  # P(a lesson teaches an unknown skill, prerequisites known)
    untaught_factor: float = 0.3  # practice teaches this share before the skill's lesson is read
    repeat_factor: float = 0.35  # each earlier attempt on an exercise multiplies its teaching
    blocked_factor: float = 0.1  # learning a skill whose prerequisites are unknown
    forget_base: float = 0.004  # P(forgetting a skill per step) right after learning it
    guess: float = 0.2


@dataclass
class _Memory:
    taught: set[SkillKey] = field(default_factory=set)
    tries: dict[int, int] = field(default_factory=dict)  # item key -> attempts so far
    practice_since_known: dict[SkillKey, int] = field(default_factory=dict)


class LessonsWorld:
    """A student for whom lessons matter, repetition wears off, and knowledge fades."""

    name = "lessons"
    has_lessons = True

    def __init__(
        self,
        state: LearnerState,
        prerequisites: Mapping[SkillKey, Iterable[SkillKey]],
        rng: np.random.Generator,
        *,
        parameters: LessonsParameters = LessonsParameters(),
    ) -> None:
        self.state, self.rng, self.parameters = state, rng, parameters
        self.prerequisites = {s: tuple(p) for s, p in prerequisites.items()}
        self.order = {s: i for i, s in enumerate(prerequisites_order(self.prerequisites))}
        self.memory = _Memory()

    def known(self) -> set[SkillKey]:
        return self.state.mastered

    def p_correct(self, item: SimulatedItem) -> float:
        if all(skill in self.state.mastered for skill in item.skills):
            return 1.0 - self.state.profile.slip
        return self.parameters.guess

    def _ready(self, skill: SkillKey) -> bool:
        return set(self.prerequisites.get(skill, ())) <= self.state.mastered

    def _learn(self, skill: SkillKey) -> None:
        self.state.mastered.add(skill)
        self.memory.practice_since_known[skill] = 0

    def study(self, lesson: SimulatedLesson) -> None:
        for skill in lesson.skills:
            self.memory.taught.add(skill)
            if skill in self.state.mastered:
                continue
            rate = self.parameters.lesson_learn * (0.5 + self.state.profile.learn_rate)
            if not self._ready(skill):
                rate *= self.parameters.blocked_factor
            if self.rng.random() < min(rate, 0.95):
                self._learn(skill)

    def answer(self, item: SimulatedItem) -> bool:
        correct = bool(self.rng.random() < self.p_correct(item))
        tries = self.memory.tries.get(item.key, 0)
        self.memory.tries[item.key] = tries + 1
        for skill in item.skills:
            if skill in self.state.mastered:
                since = self.memory.practice_since_known
                since[skill] = since.get(skill, 0) + 1  # known from the start: from 0
        unknown = sorted(
            (s for s in item.skills if s not in self.state.mastered), key=self.order.__getitem__
        )
        if unknown:  # conjunctive: one practice teaches at most the most basic unknown skill
            skill = unknown[0]
            rate = self.state.profile.learn_rate * self.parameters.repeat_factor**tries
            if skill not in self.memory.taught:
                rate *= self.parameters.untaught_factor
            if not self._ready(skill):
                rate *= self.parameters.blocked_factor
            if self.rng.random() < rate:
                self._learn(skill)
        return correct

    def tick(self) -> None:
        for skill in sorted(self.state.mastered):
            practised = self.memory.practice_since_known.get(skill, 0)
            if self.rng.random() < self.parameters.forget_base / (1 + practised):
                self.state.mastered.discard(skill)


WORLDS = {"practice": PracticeWorld, "lessons": LessonsWorld}


def lessons_for(skills: Sequence[Sequence[SkillKey]]) -> list[SimulatedLesson]:
    """Lessons from their skill lists, keyed by position (syllabus order)."""
    return [SimulatedLesson(key=i, skills=tuple(s)) for i, s in enumerate(skills)]
