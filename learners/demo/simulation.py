"""A simple generative model of learning, for simulated students (plain Python, no Django).

Every learner holds a latent, binary mastery per skill, as in Bayesian knowledge tracing:
- at the start a skill is known with the learner's prior, lower the deeper it sits in the
  prerequisite graph, and never while one of its prerequisites is unknown;
- practising an item teaches each of its skills with the learner's learn rate, cut by
  `blocked_learn_factor` while a prerequisite of that skill is still unknown (prerequisites first);
- an answer is right with probability 1 - slip when every skill of the item is known, and with the
  item's guess probability otherwise.

`cohort_simulate` drives learners through the skills in prerequisite order, the way a fixed course
would (move on after a streak of right answers or too many tries, now and then review). A
benchmark of another policy (an adaptive path) can reuse `LearnerState`, `response_sample` and
`practice_apply` with its own choice of items.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from courses.graph import topological_order

SkillKey = int
ItemKey = int


@dataclass(frozen=True)
class SimulatedItem:
    """An exercise as the model sees it: its skills and how likely a blind guess is right."""

    key: ItemKey
    skills: tuple[SkillKey, ...]
    guess: float = 0.2
    hints: int = 0


@dataclass(frozen=True)
class LearnerProfile:
    prior: float  # P(a root skill is known before any practice)
    learn_rate: float  # P(an unknown skill becomes known after one practice, prerequisites known)
    slip: float  # P(a wrong answer although every skill is known)
    persistence: int  # tries on one skill before moving on without a streak
    budget: int  # attempts the learner makes in all (dropouts have small budgets)
    start_offset_seconds: float  # when the learner starts, from the start of the window


@dataclass
class LearnerState:
    profile: LearnerProfile
    mastered: set[SkillKey] = field(default_factory=set)


@dataclass(frozen=True)
class SimulatedResponse:
    learner: int
    step: int
    item: ItemKey
    skills: tuple[SkillKey, ...]
    is_correct: bool
    hints_used: int
    duration_seconds: float
    seconds: float  # from the start of the window
    mastered_before: bool  # every skill of the item was known (the latent truth, for checks)


@dataclass(frozen=True)
class SimulationParameters:
    window_days: float = 28.0
    mastery_streak: int = 3
    review_probability: float = 0.1
    blocked_learn_factor: float = 0.25
    depth_prior_decay: float = 0.8
    min_budget: int = 10
    max_budget: int = 160


def prerequisites_order(prerequisites: Mapping[SkillKey, Iterable[SkillKey]]) -> list[SkillKey]:
    """Skills with every prerequisite first (ties by key); raises ValueError on a cycle."""
    return topological_order(prerequisites, strict=True)


def skill_depths(prerequisites: Mapping[SkillKey, Iterable[SkillKey]]) -> dict[SkillKey, int]:
    """0 for a skill with no prerequisite, else 1 + the deepest prerequisite."""
    depths: dict[SkillKey, int] = {}
    for skill in prerequisites_order(prerequisites):
        requires = prerequisites.get(skill, ())
        depths[skill] = 1 + max((depths[other] for other in requires), default=-1)
    return depths


def learner_profile_sample(
    rng: np.random.Generator, *, parameters: SimulationParameters = SimulationParameters()
) -> LearnerProfile:
    """Draw one learner: ability moves prior, learn rate and slip together."""
    ability = rng.normal()
    logistic = 1.0 / (1.0 + np.exp(-ability))
    window_seconds = parameters.window_days * 86400
    return LearnerProfile(
        prior=float(np.clip(0.3 + 0.5 * logistic + rng.normal(0, 0.05), 0.05, 0.9)),
        learn_rate=float(np.clip(0.15 + 0.35 * logistic + rng.normal(0, 0.04), 0.05, 0.7)),
        slip=float(np.clip(0.14 - 0.1 * logistic + rng.normal(0, 0.02), 0.02, 0.25)),
        persistence=int(rng.integers(6, 13)),
        budget=int(
            np.clip(rng.lognormal(np.log(60), 0.6), parameters.min_budget, parameters.max_budget)
        ),
        start_offset_seconds=float(rng.uniform(0, 0.5 * window_seconds)),
    )


def learner_state_start(
    profile: LearnerProfile,
    prerequisites: Mapping[SkillKey, Iterable[SkillKey]],
    rng: np.random.Generator,
    *,
    parameters: SimulationParameters = SimulationParameters(),
) -> LearnerState:
    """Prior knowledge: deeper skills are known less often, and only on known prerequisites."""
    depths = skill_depths(prerequisites)
    state = LearnerState(profile=profile)
    for skill in prerequisites_order(prerequisites):
        if not set(prerequisites.get(skill, ())) <= state.mastered:
            continue
        if rng.random() < profile.prior * parameters.depth_prior_decay ** depths[skill]:
            state.mastered.add(skill)
    return state


def response_probability(state: LearnerState, item: SimulatedItem) -> float:
    """P(right answer) under the model."""
    if all(skill in state.mastered for skill in item.skills):
        return 1.0 - state.profile.slip
    return item.guess


def response_sample(state: LearnerState, item: SimulatedItem, rng: np.random.Generator) -> bool:
    """Answer an item: right with 1 - slip when its skills are known, else with its guess rate."""
    return bool(rng.random() < response_probability(state, item))


def practice_apply(
    state: LearnerState,
    item: SimulatedItem,
    prerequisites: Mapping[SkillKey, Iterable[SkillKey]],
    rng: np.random.Generator,
    *,
    parameters: SimulationParameters = SimulationParameters(),
) -> None:
    """Learning from one practice: each unknown skill of the item may become known."""
    for skill in item.skills:
        if skill in state.mastered:
            continue
        rate = state.profile.learn_rate
        if not set(prerequisites.get(skill, ())) <= state.mastered:
            rate *= parameters.blocked_learn_factor
        if rng.random() < rate:
            state.mastered.add(skill)


def _items_by_skill(items: Sequence[SimulatedItem]) -> dict[SkillKey, list[SimulatedItem]]:
    by_skill: dict[SkillKey, list[SimulatedItem]] = {}
    for item in items:
        for skill in item.skills:
            by_skill.setdefault(skill, []).append(item)
    return by_skill


def _timing(
    rng: np.random.Generator, *, known: bool, previous_seconds: float, step: int
) -> tuple[float, float]:
    duration = float(np.clip(rng.lognormal(np.log(25 if known else 50), 0.5), 4, 900))
    gap = float(rng.uniform(5, 40))
    # Sessions of about 12 attempts, then a break of half a day to three days.
    if step and rng.random() < 1 / 12:
        gap += float(rng.uniform(0.5, 3.0) * 86400)
    return duration, previous_seconds + gap + duration


def learner_simulate(
    learner: int,
    *,
    items: Sequence[SimulatedItem],
    prerequisites: Mapping[SkillKey, Iterable[SkillKey]],
    rng: np.random.Generator,
    parameters: SimulationParameters = SimulationParameters(),
    profile: LearnerProfile | None = None,
) -> list[SimulatedResponse]:
    """One learner through the course in prerequisite order; stops at the budget or the window."""
    profile = profile or learner_profile_sample(rng, parameters=parameters)
    state = learner_state_start(profile, prerequisites, rng, parameters=parameters)
    by_skill = _items_by_skill(items)
    order = [skill for skill in prerequisites_order(prerequisites) if skill in by_skill]
    window_seconds = parameters.window_days * 86400
    responses: list[SimulatedResponse] = []
    seconds = profile.start_offset_seconds
    visited: list[SkillKey] = []
    for skill in order:
        visited.append(skill)
        streak = tries = 0
        while streak < parameters.mastery_streak and tries < profile.persistence:
            if len(responses) >= profile.budget:
                return responses
            target = skill
            if len(visited) > 1 and rng.random() < parameters.review_probability:
                target = visited[int(rng.integers(0, len(visited) - 1))]
            candidates = by_skill[target]
            item = candidates[int(rng.integers(0, len(candidates)))]
            known = all(other in state.mastered for other in item.skills)
            is_correct = response_sample(state, item, rng)
            hints_used = 0
            if item.hints and not known and rng.random() < 0.45:
                hints_used = int(rng.integers(1, item.hints + 1))
            duration, seconds = _timing(rng, known=known, previous_seconds=seconds, step=tries)
            if seconds > window_seconds:
                return responses
            responses.append(
                SimulatedResponse(
                    learner=learner,
                    step=len(responses),
                    item=item.key,
                    skills=item.skills,
                    is_correct=is_correct,
                    hints_used=hints_used,
                    duration_seconds=duration,
                    seconds=seconds,
                    mastered_before=known,
                )
            )
            practice_apply(state, item, prerequisites, rng, parameters=parameters)
            if target == skill:
                tries += 1
                streak = streak + 1 if is_correct else 0
    return responses


def cohort_simulate(
    *,
    learners: int,
    items: Sequence[SimulatedItem],
    prerequisites: Mapping[SkillKey, Iterable[SkillKey]],
    seed: int = 0,
    parameters: SimulationParameters = SimulationParameters(),
) -> list[SimulatedResponse]:
    """Responses of `learners` simulated students, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    responses: list[SimulatedResponse] = []
    for learner in range(learners):
        responses.extend(
            learner_simulate(
                learner, items=items, prerequisites=prerequisites, rng=rng, parameters=parameters
            )
        )
    return responses
