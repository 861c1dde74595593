"""What a student is shown about their mastery: one pure function of their evidence and the model.

The knowledge-tracing model (GRU or BKT) gives a raw estimate per skill after every attempt.
Shown as is, it tells untrue stories: a new student "knows" skills they never touched, a right
answer lowers a bar, a skill shows 100% while its prerequisite shows 49%. Everything a student
sees (web dashboard, lesson page, API, reason sentences, the class heatmap) therefore goes through
this module, which turns raw estimates into a *shown* value with rules that always hold
(docs/mastery-display.md explains each one and why):

evidence    A skill without own attempts is "not started": no bar. An estimate from related
            skills may be given beside it, marked as an estimate, with the skills it comes from.
direction   A right answer on a skill never lowers its shown value, a wrong one never raises it.
            Own right answers also cap the value (`evidence_cap`): one lucky answer is not mastery.
neighbours  An attempt moves only skills one prerequisite edge away, by at most
            `neighbour_step`: a right answer may raise the skill's started prerequisites, a wrong
            one may lower its started dependents. Other skills do not move.
coherence   A skill shown mastered while a direct prerequisite is not started or learning carries
            a caveat naming that prerequisite, and every sentence about it says so.
vocabulary  One status per skill (not started / learning / almost / mastered) from one rounding
            of the shown value (`percent_of`); the streak rule (K right in a row) lifts the value
            to the threshold, so "mastered" in a sentence is "mastered" on the bar.

No Django here: the web, the planner, the benches and property tests all call the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

NOT_STARTED = "not_started"
LEARNING = "learning"
ALMOST = "almost"
MASTERED = "mastered"
STATUSES = (NOT_STARTED, LEARNING, ALMOST, MASTERED)
WEAK_STATUSES = frozenset({NOT_STARTED, LEARNING})


@dataclass(frozen=True)
class DisplayConfig:
    threshold: float = 0.95  # shown value (one rounding) at which a skill is mastered
    streak: int = 3  # right answers in a row that count as mastered
    almost_share: float = 0.75  # "almost" from this share of the threshold on
    neighbour_step: float = 0.05  # most an attempt moves a skill one edge away

    @cached_property
    def status_percents(self) -> tuple[int, int]:
        """(mastered from, almost from) in rounded percents: computed once per config, as
        `status_of` runs for every skill of every learner of a refresh."""
        return percent_of(self.threshold), percent_of(self.threshold * self.almost_share)


@dataclass(frozen=True)
class DisplayGraph:
    """The prerequisite graph as display needs it: skill id -> direct prerequisites, names."""

    prerequisites: Mapping[int, tuple[int, ...]]
    names: Mapping[int, str] = field(default_factory=dict)

    @property
    def skill_ids(self) -> list[int]:
        return list(self.prerequisites)

    def dependents(self) -> dict[int, list[int]]:
        """skill id -> the skills that list it as a direct prerequisite (computed once)."""
        return self._dependents

    @cached_property
    def _dependents(self) -> dict[int, list[int]]:
        # Cached: a refresh folds and shows thousands of learners on one graph.
        result: dict[int, list[int]] = {skill: [] for skill in self.prerequisites}
        for skill, requires in self.prerequisites.items():
            for prerequisite in requires:
                if prerequisite in result:
                    result[prerequisite].append(skill)
        return result


@dataclass
class DisplayState:
    """What must be remembered between attempts: the shown value per started skill.

    `right`/`streak` are counted over the attempts folded so far; `folded` is how many of the
    learner's attempts (in id order) are in the state, so an update folds only the newer ones.
    """

    values: dict[int, float] = field(default_factory=dict)
    right: dict[int, int] = field(default_factory=dict)
    streak: dict[int, int] = field(default_factory=dict)
    folded: int = 0
    # The threshold the values were folded with, so every reader calls "mastered" the same.
    threshold: float | None = None

    def copy(self) -> DisplayState:
        return DisplayState(
            dict(self.values), dict(self.right), dict(self.streak), self.folded, self.threshold
        )

    def config(self, default: DisplayConfig) -> DisplayConfig:
        if self.threshold is None:
            return default
        return DisplayConfig(
            threshold=self.threshold,
            streak=default.streak,
            almost_share=default.almost_share,
            neighbour_step=default.neighbour_step,
        )

    def to_json(self) -> dict:
        return {
            "values": {str(k): round(v, 6) for k, v in self.values.items()},
            "right": {str(k): v for k, v in self.right.items()},
            "streak": {str(k): v for k, v in self.streak.items()},
            "folded": self.folded,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: Mapping | None) -> DisplayState:
        data = data or {}

        def ints(key: str, kind: Callable) -> dict:
            return {int(k): kind(v) for k, v in (data.get(key) or {}).items()}

        threshold = data.get("threshold")
        return cls(
            ints("values", float),
            ints("right", int),
            ints("streak", int),
            int(data.get("folded", 0)),
            None if threshold is None else float(threshold),
        )


def percent_of(value: float) -> int:
    """The one rounding of a shown value to a whole percent (half up), used everywhere."""
    # Rounded to 6 places first so that 0.145 (14.499999... in binary) reads 15%, not 14%.
    return math.floor(round(100 * min(max(value, 0.0), 1.0), 6) + 0.5)


def status_of(value: float | None, config: DisplayConfig) -> str:
    """The status word of a shown value (None: not started), from its rounded percent."""
    if value is None:
        return NOT_STARTED
    percent = percent_of(value)
    mastered_from, almost_from = config.status_percents
    if percent >= mastered_from:
        return MASTERED
    if percent >= almost_from:
        return ALMOST
    return LEARNING


def evidence_cap(right: int, config: DisplayConfig) -> float:
    """The highest shown value `right` own right answers allow.

    0 right answers: 0; then half the remaining way per right answer, reaching the threshold at
    `streak` right answers (0, 54%, 81%, 95% for the defaults); from there on no cap.
    """
    k = max(config.streak, 1)
    if right >= k:
        return 1.0
    return config.threshold * (1 - 0.5**right) / (1 - 0.5**k)


def attempt_fold(
    state: DisplayState,
    skill_ids: Sequence[int],
    is_correct: bool,
    raw: Mapping[int, float],
    graph: DisplayGraph,
    config: DisplayConfig,
    *,
    dependents: Mapping[int, Sequence[int]] | None = None,
) -> DisplayState:
    """The state after one attempt; `raw` is the model's estimate right after it.

    The rules are enforced here structurally (max/min against the previous value), so they hold
    whatever the model outputs.
    """
    new = state.copy()
    _attempt_fold_into(new, skill_ids, is_correct, raw, graph, config, dependents=dependents)
    return new


def _attempt_fold_into(
    new: DisplayState,
    skill_ids: Sequence[int],
    is_correct: bool,
    raw: Mapping[int, float],
    graph: DisplayGraph,
    config: DisplayConfig,
    *,
    dependents: Mapping[int, Sequence[int]] | None = None,
) -> None:
    # In place: each skill is read before it is written within one attempt (attempted skills
    # once each, neighbours exclude them), so folding into the state itself equals folding into
    # a copy, without copying four dicts per attempt of a refresh.
    new.folded += 1
    attempted = [s for s in dict.fromkeys(skill_ids) if s in graph.prerequisites]
    for skill in attempted:
        before = new.values.get(skill)
        estimate = min(max(float(raw.get(skill, 0.0)), 0.0), 1.0)
        if is_correct:
            new.right[skill] = new.right.get(skill, 0) + 1
            new.streak[skill] = new.streak.get(skill, 0) + 1
            value = min(estimate, evidence_cap(new.right[skill], config))
            if new.streak[skill] >= config.streak:
                value = max(value, config.threshold)
            new.values[skill] = value if before is None else max(before, value)
        else:
            new.streak[skill] = 0
            value = min(estimate, evidence_cap(new.right.get(skill, 0), config))
            new.values[skill] = value if before is None else min(before, value)
    if dependents is None:
        dependents = graph.dependents()
    touched = set(attempted)
    neighbours: set[int] = set()
    for skill in attempted:
        related = graph.prerequisites[skill] if is_correct else dependents.get(skill, ())
        neighbours.update(s for s in related if s not in touched)
    for skill in sorted(neighbours):
        before = new.values.get(skill)
        if before is None:  # evidence rule: a neighbour's answer never starts a skill
            continue
        estimate = min(max(float(raw.get(skill, before)), 0.0), 1.0)
        if is_correct:
            ceiling = min(
                before + config.neighbour_step, evidence_cap(new.right.get(skill, 0), config)
            )
            new.values[skill] = max(before, min(estimate, ceiling))
        else:
            new.values[skill] = min(before, max(estimate, before - config.neighbour_step))


def attempts_fold(
    state: DisplayState,
    attempts: Iterable[tuple[Sequence[int], bool]],
    raw: Mapping[int, float],
    graph: DisplayGraph,
    config: DisplayConfig,
) -> DisplayState:
    """Fold several attempts with the same (latest) raw estimate, e.g. a batch caught up at once."""
    dependents = graph.dependents()
    state = state.copy()
    for skill_ids, is_correct in attempts:
        _attempt_fold_into(state, skill_ids, is_correct, raw, graph, config, dependents=dependents)
    return state


# What is shown -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownSkill:
    skill_id: int
    name: str
    status: str
    value: float | None  # the shown value; None while not started
    percent: int | None  # percent_of(value): the number on the bar and in every sentence
    estimate_percent: int | None = None  # not started only: the model's estimate, marked as such
    estimate_from: tuple[str, ...] = ()  # the started related skills the estimate leans on
    caveat: tuple[str, ...] = ()  # mastered although these direct prerequisites are weak

    @property
    def is_started(self) -> bool:
        return self.status != NOT_STARTED

    @property
    def planning_value(self) -> float:
        """What the planner reads as the skill's mastery (0 while not started)."""
        return self.value if self.value is not None else 0.0

    def as_dict(self) -> dict:
        return {
            "skill_id": self.skill_id,
            "name": self.name,
            "status": self.status,
            "value": None if self.value is None else round(self.value, 4),
            "percent": self.percent,
            "estimate_percent": self.estimate_percent,
            "estimate_from": list(self.estimate_from),
            "caveat": list(self.caveat),
        }


def shown_mastery(
    state: DisplayState,
    raw: Mapping[int, float],
    graph: DisplayGraph,
    config: DisplayConfig,
) -> dict[int, ShownSkill]:
    """Every skill of the graph as the student sees it (the one function everybody calls)."""
    dependents = graph.dependents()
    statuses = {s: status_of(state.values.get(s), config) for s in graph.prerequisites}
    shown: dict[int, ShownSkill] = {}
    for skill, requires in graph.prerequisites.items():
        name = graph.names.get(skill, str(skill))
        value = state.values.get(skill)
        status = statuses[skill]
        if value is None:
            related = [*requires, *dependents.get(skill, ())]
            started = [s for s in dict.fromkeys(related) if statuses.get(s) != NOT_STARTED]
            started = [s for s in started if s in statuses]
            estimate = raw.get(skill) if started else None
            ceilings = [state.values[p] for p in requires if p in started]
            if estimate is not None and ceilings:
                # An estimate leans on the learner's own answers: never above what they showed
                # on a prerequisite they answered (a skill is not known better than what it
                # needs), and none at all when that leaves nothing to say.
                estimate = min(estimate, *ceilings)
            if estimate is not None and percent_of(estimate) == 0:
                estimate = None
            shown[skill] = ShownSkill(
                skill_id=skill,
                name=name,
                status=NOT_STARTED,
                value=None,
                percent=None,
                estimate_percent=None if estimate is None else percent_of(estimate),
                estimate_from=() if estimate is None else tuple(_names(graph, started)),
            )
            continue
        caveat: tuple[str, ...] = ()
        if status == MASTERED:
            caveat = _caveat(graph, requires, statuses.get)
        shown[skill] = ShownSkill(
            skill_id=skill,
            name=name,
            status=status,
            value=value,
            percent=percent_of(value),
            caveat=caveat,
        )
    return shown


def _caveat(
    graph: DisplayGraph, requires: Iterable[int], status: Callable[[int], str | None]
) -> tuple[str, ...]:
    """Names of the direct prerequisites still weak (not started, learning) of a mastered skill."""
    return tuple(_names(graph, [p for p in requires if status(p) in WEAK_STATUSES]))


def shown_for_planning(
    state: DisplayState, graph: DisplayGraph, config: DisplayConfig
) -> tuple[dict[int, float], dict[int, tuple[str, ...]]]:
    """The part of `shown_mastery` the planner reads, without building every skill.

    (shown value of every started skill, caveat of every mastered skill that has one): equal to
    `{s: v.value for v in shown_mastery(...) if v.value is not None}` and the non-empty
    `v.caveat`s (a test holds them equal), in time proportional to the started skills only,
    which matters on a course of a thousand skills.
    """
    values = {s: v for s, v in state.values.items() if s in graph.prerequisites}

    def status(skill: int) -> str | None:
        return status_of(values.get(skill), config) if skill in graph.prerequisites else None

    caveats: dict[int, tuple[str, ...]] = {}
    for skill, value in values.items():
        if status_of(value, config) == MASTERED:
            caveat = _caveat(graph, graph.prerequisites[skill], status)
            if caveat:
                caveats[skill] = caveat
    return values, caveats


def _names(graph: DisplayGraph, skill_ids: Iterable[int]) -> list[str]:
    return [graph.names.get(s, str(s)) for s in skill_ids]


# Words ------------------------------------------------------------------------------------------


def status_label(status: str, gettext: Callable[[str], str] = lambda text: text) -> str:
    _ = gettext
    return {
        NOT_STARTED: _("not started"),
        LEARNING: _("learning"),
        ALMOST: _("almost"),
        MASTERED: _("mastered"),
    }[status]


# Bands of predicted success, each with its own words (no phrase serves two far-apart chances).
CHANCE_BANDS = ((35, "stretch"), (65, "within_reach"), (85, "likely"), (101, "very_likely"))


def chance_band(percent: int) -> str:
    return next(name for upper, name in CHANCE_BANDS if percent < upper)


def chance_phrase(percent: int, gettext: Callable[[str], str] = lambda text: text) -> str:
    """Words that fit a predicted chance of a right answer (in whole percent)."""
    _ = gettext
    return {
        "stretch": _("a stretch for now, so use the hints and learn from the worked solution"),
        "within_reach": _("challenging but within reach"),
        "likely": _("you will likely get it right"),
        "very_likely": _("you will very likely get it right"),
    }[chance_band(percent)]


# Checks ------------------------------------------------------------------------------------------

RULES = ("evidence", "direction", "neighbours", "coherence", "vocabulary")


def rule_violations(
    *,
    before: DisplayState,
    after: DisplayState,
    shown: Mapping[int, ShownSkill],
    skill_ids: Sequence[int],
    is_correct: bool,
    attempted: set[int],
    graph: DisplayGraph,
    config: DisplayConfig,
) -> dict[str, int]:
    """Violations of each rule by one attempt (`attempted`: skills with own attempts so far,
    this one included; `shown`: shown_mastery of `after`). Used by property tests and benches."""
    found = dict.fromkeys(RULES, 0)
    dependents = graph.dependents()
    in_attempt = set(skill_ids)
    for skill, item in shown.items():
        if skill not in attempted and (item.status != NOT_STARTED or item.percent is not None):
            found["evidence"] += 1
        if item.estimate_percent is not None and (item.is_started or not item.estimate_from):
            found["evidence"] += 1
        estimate = item.estimate_percent
        prerequisite_percents = [shown[p].percent for p in graph.prerequisites[skill]]
        if estimate is not None and any(
            percent is not None and estimate > percent for percent in prerequisite_percents
        ):
            found["coherence"] += 1
        expected = status_of(after.values.get(skill), config)
        if item.status != expected or (item.percent is None) != (item.value is None):
            found["vocabulary"] += 1
        if item.status == MASTERED:
            weak = _names(
                graph,
                [p for p in graph.prerequisites[skill] if shown[p].status in WEAK_STATUSES],
            )
            if set(weak) - set(item.caveat):
                found["coherence"] += 1
    for skill in in_attempt & set(graph.prerequisites):
        old, new = before.values.get(skill), after.values.get(skill)
        if old is not None and new is not None and (new < old if is_correct else new > old):
            found["direction"] += 1
        streak_done = is_correct and after.streak.get(skill, 0) >= config.streak
        if streak_done and shown[skill].status != MASTERED:
            found["vocabulary"] += 1
    near_up = {p for s in in_attempt for p in graph.prerequisites.get(s, ())} - in_attempt
    near_down = {d for s in in_attempt for d in dependents.get(s, ())} - in_attempt
    for skill in set(graph.prerequisites) - in_attempt:
        old, new = before.values.get(skill), after.values.get(skill)
        if old == new:
            continue
        if old is None or new is None:
            found["neighbours"] += 1
            continue
        allowed = near_up if is_correct else near_down
        moved_right_way = new > old if is_correct else new < old
        if (
            skill not in allowed
            or not moved_right_way
            or abs(new - old) > config.neighbour_step + 1e-9
        ):
            found["neighbours"] += 1
    return found
