"""Learning-gain simulator: how fast do simulated students master the demo course under each policy?

Students with a ground-truth, per-skill mastery (learning with prerequisites first, slips,
guesses, forgetting) from `learners.demo.simulation` work through the demo course's 40 exercises
and 15 skills. Policies, compared on the same students (same profiles, same random streams):

- syllabus: skills in prerequisite order, move on after 3 right in a row or 8 tries, then review;
- random: any exercise;
- lowest_mastery: the skill with the lowest BKT estimate first (OATutor's heuristic);
- pathwise_bkt: the Pathwise planner on BKT fitted by EM to a simulated cohort;
- pathwise_gru: the Pathwise planner on a GRU trained on the same cohort.

It prints mean steps until every skill is mastered (capped), the share of students who got
there, and a post-test score (expected share of exercises right) after a fixed budget.

    .venv/bin/python bench/learning_gain.py [--students 200] [--budget 60] [--max-steps 400]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from adaptive.ml.bkt import BKTParams, bkt_fit  # noqa: E402
from adaptive.ml.sequences import (  # noqa: E402
    learners_split,
    sequences_build,
    sequences_subset,
    windows_build,
)
from adaptive.planning import (  # noqa: E402
    CourseGraph,
    ExerciseNode,
    LearnerSnapshot,
    PlannerConfig,
    SkillNode,
    plan_build,
)
from adaptive.serving import Runtime  # noqa: E402
from learners.demo import content  # noqa: E402
from learners.demo.seeding import GUESS_BY_KIND  # noqa: E402
from learners.demo.simulation import (  # noqa: E402
    SimulatedItem,
    cohort_simulate,
    learner_profile_sample,
    learner_state_start,
    practice_apply,
    prerequisites_order,
    response_probability,
    response_sample,
)

FORGET_PER_STEP = 0.003  # P(a mastered skill is forgotten at each step)
STEP_DURATION = timedelta(hours=2)  # simulated study time per step, for spaced review
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
STREAK, PERSISTENCE = 3, 8


def course_model():
    """Items, prerequisites and the planner's graph of the demo course, skills as indices."""
    index = {spec.key: i for i, spec in enumerate(content.SKILLS)}
    prerequisites = {index[s.key]: [index[r] for r in s.requires] for s in content.SKILLS}
    items = [
        SimulatedItem(
            key=i,
            skills=tuple(index[s] for s in spec.skills),
            guess=GUESS_BY_KIND[spec.kind],
            hints=len(spec.hints),
        )
        for i, spec in enumerate(content.EXERCISES)
    ]
    graph = CourseGraph(
        skills=tuple(
            SkillNode(index[s.key], s.name, tuple(prerequisites[index[s.key]]))
            for s in content.SKILLS
        ),
        exercises=tuple(
            ExerciseNode(item.key, content.EXERCISES[item.key].title, item.skills) for item in items
        ),
    )
    return items, prerequisites, graph


@dataclass
class Student:
    index: int
    state: object  # learners.demo.simulation.LearnerState (ground truth)
    seed: int


def students_sample(count: int, prerequisites, seed: int) -> list[Student]:
    rng = np.random.default_rng(seed)
    students = []
    for index in range(count):
        profile = learner_profile_sample(rng)
        state = learner_state_start(profile, prerequisites, rng)
        students.append(Student(index, state, int(rng.integers(2**31))))
    return students


# Policies --------------------------------------------------------------------------------------


class Syllabus:
    name = "syllabus"

    def __init__(self, items, prerequisites, rng):
        self.order = prerequisites_order(prerequisites)
        self.by_skill = {s: [i for i in items if s in i.skills] for s in self.order}
        self.position = self.streak = self.tries = self.turn = 0

    def choose(self):
        skill = self.order[self.position % len(self.order)]
        candidates = self.by_skill[skill]
        self.turn += 1
        return candidates[self.turn % len(candidates)]

    def observe(self, item, correct):
        self.tries += 1
        self.streak = self.streak + 1 if correct else 0
        if self.streak >= STREAK or self.tries >= PERSISTENCE:
            self.position += 1
            self.streak = self.tries = 0


class Random:
    name = "random"

    def __init__(self, items, prerequisites, rng):
        self.items, self.rng = items, rng

    def choose(self):
        return self.items[int(self.rng.integers(len(self.items)))]

    def observe(self, item, correct):
        pass


class Estimating:
    """A policy that keeps a model's state of the student, updated after every answer."""

    def __init__(self, items, prerequisites, rng, runtime: Runtime):
        self.items, self.rng, self.runtime = items, rng, runtime
        self.state = runtime.initial_state()
        self.seen: set[int] = set()
        self.step_count = 0
        self.last_practised: dict[int, datetime] = {}
        self.streaks: dict[int, int] = {}

    def mastery(self) -> np.ndarray:
        return self.runtime.mastery(self.state)

    @property
    def now(self) -> datetime:
        return START + self.step_count * STEP_DURATION

    def observe(self, item, correct):
        self.state = self.runtime.step(self.state, list(item.skills), correct, item.key)
        self.seen.add(item.key)
        self.step_count += 1
        for skill in item.skills:
            self.last_practised[skill] = self.now
            self.streaks[skill] = self.streaks.get(skill, 0) + 1 if correct else 0


class LowestMastery(Estimating):
    name = "lowest_mastery"

    def choose(self):
        mastery = self.mastery()
        skill = int(np.argmin(mastery))
        candidates = [i for i in self.items if skill in i.skills]
        unseen = [i for i in candidates if i.key not in self.seen]
        pool = unseen or candidates
        return pool[int(self.rng.integers(len(pool)))]


class Pathwise(Estimating):
    def __init__(self, items, prerequisites, rng, runtime, graph, threshold, name):
        super().__init__(items, prerequisites, rng, runtime)
        self.graph, self.name = graph, name
        self.config = PlannerConfig(mastery_threshold=threshold, max_steps=1)
        incidence = np.zeros((len(items), len(runtime.skill_ids)))
        for item in items:
            incidence[item.key, list(item.skills)] = 1.0 / len(item.skills)
        self.incidence = incidence

    def choose(self):
        mastery = self.mastery()
        success = self.incidence @ self.runtime.correct_probability(mastery)
        snapshot = LearnerSnapshot(
            mastery=dict(enumerate(mastery.tolist())),
            predicted_success=dict(enumerate(success.tolist())),
            attempted_exercise_ids=frozenset(self.seen),
            last_practised=self.last_practised,
            streaks=self.streaks,
        )
        steps = plan_build(self.graph, snapshot, self.config, now=self.now)
        if steps and steps[0].exercise_id is not None:
            return self.items[steps[0].exercise_id]
        # Everything looks mastered: review the exercise the model is least sure of.
        return min(
            self.items, key=lambda i: self.runtime.predicted_success(mastery, list(i.skills))
        )


# Simulation ------------------------------------------------------------------------------------


def run_student(student: Student, policy_factory, items, prerequisites, budget, max_steps):
    state = deepcopy(student.state)
    world = np.random.default_rng(student.seed)  # the same answers and learning for every policy
    policy = policy_factory(np.random.default_rng(student.seed + 1))
    all_skills = set(prerequisites)
    steps_to_master = None
    post_test = None
    for step in range(1, max_steps + 1):
        item = policy.choose()
        correct = response_sample(state, item, world)
        practice_apply(state, item, prerequisites, world)
        for skill in sorted(state.mastered):
            if world.random() < FORGET_PER_STEP:
                state.mastered.discard(skill)
        policy.observe(item, correct)
        if step == budget:
            post_test = float(np.mean([response_probability(state, i) for i in items]))
        if steps_to_master is None and state.mastered >= all_skills:
            steps_to_master = step
        if steps_to_master is not None and step >= budget:
            break
    return steps_to_master, post_test


def train_models(items, prerequisites, cohort: int, epochs: int, seed: int):
    """BKT (EM) and a GRU trained on a simulated cohort following the syllabus."""
    responses = cohort_simulate(
        learners=cohort, items=items, prerequisites=prerequisites, seed=seed
    )
    sequences = sequences_build(
        learners=[r.learner for r in responses],
        times=[r.step for r in responses],
        skills=[list(r.skills) for r in responses],
        correct=[int(r.is_correct) for r in responses],
        n_skills=len(prerequisites),
    )
    train_ids, validation_ids, _ = learners_split(sequences.learner_ids, seed=seed)
    train = windows_build(sequences_subset(sequences, train_ids))
    started = time.perf_counter()
    bkt = bkt_fit(train)
    from adaptive.ml.step import step_weights_export
    from adaptive.ml.training import TrainConfig, dkt_train

    result = dkt_train(
        sequences_subset(sequences, train_ids),
        sequences_subset(sequences, validation_ids),
        config=TrainConfig(epochs=epochs, seed=seed),
    )
    weights = step_weights_export(result.model)
    skills = tuple(range(len(prerequisites)))
    return (
        Runtime(model_version_id=None, kind="bkt", skill_ids=skills, bkt=bkt),
        Runtime(
            model_version_id=None,
            kind="gru",
            skill_ids=skills,
            step_weights=weights,
            emission=bkt,
        ),
        len(responses),
        time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--budget", type=int, default=60, help="steps before the post-test")
    parser.add_argument("--max-steps", type=int, default=400)
    parser.add_argument("--cohort", type=int, default=2000, help="simulated learners to train on")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    items, prerequisites, graph = course_model()
    bkt_runtime, gru_runtime, trained_on, train_seconds = train_models(
        items, prerequisites, args.cohort, args.epochs, args.seed
    )
    default_bkt = Runtime(
        model_version_id=None,
        kind="bkt",
        skill_ids=gru_runtime.skill_ids,
        bkt=BKTParams.default(len(prerequisites)),
    )
    from django.conf import settings

    policies = {
        "syllabus": lambda rng: Syllabus(items, prerequisites, rng),
        "random": lambda rng: Random(items, prerequisites, rng),
        "lowest_mastery": lambda rng: LowestMastery(items, prerequisites, rng, default_bkt),
        "pathwise_bkt": lambda rng: Pathwise(
            items,
            prerequisites,
            rng,
            bkt_runtime,
            graph,
            settings.PATHWISE_MASTERY_THRESHOLD,
            "pathwise_bkt",
        ),
        "pathwise_gru": lambda rng: Pathwise(
            items,
            prerequisites,
            rng,
            gru_runtime,
            graph,
            settings.PATHWISE_GRU_MASTERY_THRESHOLD,
            "pathwise_gru",
        ),
    }
    students = students_sample(args.students, prerequisites, args.seed + 100)
    rows = {}
    for name, factory in policies.items():
        started = time.perf_counter()
        outcomes = [
            run_student(s, factory, items, prerequisites, args.budget, args.max_steps)
            for s in students
        ]
        steps = [o[0] if o[0] is not None else args.max_steps for o in outcomes]
        rows[name] = {
            "steps": float(np.mean(steps)),
            "steps_std": float(np.std(steps)),
            "mastered_share": float(np.mean([o[0] is not None for o in outcomes])),
            "post_test": float(np.mean([o[1] for o in outcomes])),
            "seconds": time.perf_counter() - started,
        }
        print(f"  {name}: done in {rows[name]['seconds']:.1f} s", file=sys.stderr)

    baseline = rows["syllabus"]["steps"]
    print()
    print(
        f"Learning gain on the demo course ({len(graph.skills)} skills, {len(items)} exercises), "
        f"{args.students} simulated students; models trained on {trained_on:,} simulated "
        f"attempts in {train_seconds:.0f} s"
    )
    print(
        f"{'policy':<18}{'steps to master all':>22}{'reached':>9}"
        f"{f'post-test @{args.budget}':>16}{'vs syllabus':>13}"
    )
    for name, row in rows.items():
        print(
            f"{name:<18}{row['steps']:>14.1f} ± {row['steps_std']:<5.1f}"
            f"{row['mastered_share']:>9.0%}{row['post_test']:>16.3f}"
            f"{(1 - row['steps'] / baseline):>12.0%}"
        )
    print(f"(steps capped at {args.max_steps}; 'vs syllabus' = fewer steps than syllabus order)")
    output = {
        "figures": {f"{name}.steps": round(row["steps"], 2) for name, row in rows.items()}
        | {f"{name}.post_test": round(row["post_test"], 4) for name, row in rows.items()},
        "policies": rows,
        "students": args.students,
        "budget": args.budget,
        "max_steps": args.max_steps,
        "command": "python bench/learning_gain.py " + " ".join(sys.argv[1:]),
    }
    out = ROOT / "bench" / "results" / "learning_gain.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
