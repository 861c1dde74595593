"""Learning-gain simulator: how fast do simulated students master the demo course under each policy?

Students with a ground-truth, per-skill mastery work through the demo course. Every policy is
run in every student model (a robust evaluation matrix, Doroudi, Aleven & Brunskill 2017), on
the same students (same profiles, same random streams):

- world "practice": `learners.demo.simulation` (learning from any practice with prerequisites
  first, slips, guesses, a little forgetting); the course has no lessons, as in that model;
- world "lessons": `learners.demo.student_models.LessonsWorld` (lessons matter, repeating an
  exercise teaches less, forgetting that spaced practice slows, conjunctive multi-skill items);
  the course has the demo's lessons, and reading one takes a step.

Policies:

- syllabus: skills in prerequisite order, move on after 3 right in a row or 8 tries, then review;
- random: any exercise;
- lowest_mastery: the skill with the lowest BKT estimate first (OATutor's heuristic);
- pathwise_bkt: the Pathwise planner on BKT fitted by EM to a simulated cohort;
- pathwise_gru: the Pathwise planner on a GRU trained on the same cohort.

Pathwise plans on the shown mastery of `adaptive.display`, exactly as served. The bench prints
mean steps until every skill is truly mastered (capped), the share of students who got there,
and a post-test score (expected share of exercises right) after a fixed budget, per world.

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

from adaptive.display import (  # noqa: E402
    DisplayConfig,
    DisplayGraph,
    DisplayState,
    attempt_fold,
    shown_mastery,
)
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
    LessonNode,
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
    prerequisites_order,
)
from learners.demo.student_models import WORLDS, SimulatedLesson, lessons_for  # noqa: E402

STEP_DURATION = timedelta(hours=2)  # simulated study time per step, for spaced review
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
STREAK, PERSISTENCE = 3, 8


@dataclass(frozen=True)
class Course:
    items: list[SimulatedItem]
    lessons: list[SimulatedLesson]
    prerequisites: dict[int, list[int]]
    names: dict[int, str]

    def graph(self, *, with_lessons: bool) -> CourseGraph:
        """The planner's graph; lessons only in a world that has them."""
        return CourseGraph(
            skills=tuple(
                SkillNode(skill, self.names[skill], tuple(requires))
                for skill, requires in self.prerequisites.items()
            ),
            lessons=tuple(
                LessonNode(lesson.key, f"Lesson {lesson.key}", lesson.skills, lesson.key)
                for lesson in self.lessons
            )
            if with_lessons
            else (),
            exercises=tuple(
                ExerciseNode(item.key, content.EXERCISES[item.key].title, item.skills)
                for item in self.items
            ),
        )


def course_model() -> Course:
    """Items, lessons, prerequisites and names of the demo course, skills as indices."""
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
    lessons = lessons_for(
        [
            [index[s] for s in lesson.skills]
            for module in content.MODULES
            for lesson in module.lessons
        ]
    )
    return Course(items, lessons, prerequisites, {index[s.key]: s.name for s in content.SKILLS})


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
# choose() returns ("lesson", SimulatedLesson) or ("exercise", SimulatedItem).


class Policy:
    def __init__(self, course: Course, rng, *, with_lessons: bool) -> None:
        self.course, self.rng, self.with_lessons = course, rng, with_lessons
        self.step_count = 0

    @property
    def now(self) -> datetime:
        return START + self.step_count * STEP_DURATION

    def observe(self, item, correct) -> None:
        self.step_count += 1

    def observe_lesson(self, lesson) -> None:
        self.step_count += 1


class Syllabus(Policy):
    """Skills in prerequisite order: the skill's lesson first (where lessons exist), then its
    exercises in turn until 3 right in a row or 8 tries."""

    name = "syllabus"

    def __init__(self, course, rng, *, with_lessons):
        super().__init__(course, rng, with_lessons=with_lessons)
        self.order = prerequisites_order(course.prerequisites)
        self.by_skill = {s: [i for i in course.items if s in i.skills] for s in self.order}
        self.position = self.streak = self.tries = self.turn = 0
        self.studied: set[int] = set()

    def choose(self):
        skill = self.order[self.position % len(self.order)]
        if self.with_lessons:
            lesson = next((x for x in self.course.lessons if skill in x.skills), None)
            if lesson is not None and lesson.key not in self.studied:
                return "lesson", lesson
        candidates = self.by_skill[skill]
        self.turn += 1
        return "exercise", candidates[self.turn % len(candidates)]

    def observe_lesson(self, lesson):
        super().observe_lesson(lesson)
        self.studied.add(lesson.key)

    def observe(self, item, correct):
        super().observe(item, correct)
        self.tries += 1
        self.streak = self.streak + 1 if correct else 0
        if self.streak >= STREAK or self.tries >= PERSISTENCE:
            self.position += 1
            self.streak = self.tries = 0


class Random(Policy):
    name = "random"

    def choose(self):
        items = self.course.items
        return "exercise", items[int(self.rng.integers(len(items)))]


class Estimating(Policy):
    """A policy that keeps a model's state of the student, updated after every answer."""

    def __init__(self, course, rng, runtime: Runtime, *, with_lessons: bool):
        super().__init__(course, rng, with_lessons=with_lessons)
        self.runtime = runtime
        self.state = runtime.initial_state()
        self.seen: set[int] = set()
        self.last_practised: dict[int, datetime] = {}

    def mastery(self) -> np.ndarray:
        return self.runtime.mastery(self.state)

    def observe(self, item, correct):
        self.state = self.runtime.step(self.state, list(item.skills), correct, item.key)
        self.seen.add(item.key)
        super().observe(item, correct)
        for skill in item.skills:
            self.last_practised[skill] = self.now


class LowestMastery(Estimating):
    name = "lowest_mastery"

    def choose(self):
        mastery = self.mastery()
        skill = int(np.argmin(mastery))
        candidates = [i for i in self.course.items if skill in i.skills]
        unseen = [i for i in candidates if i.key not in self.seen]
        pool = unseen or candidates
        return "exercise", pool[int(self.rng.integers(len(pool)))]


class Pathwise(Estimating):
    """The served loop: model estimate -> shown mastery (adaptive.display) -> planner."""

    def __init__(self, course, rng, runtime, threshold, name, *, with_lessons):
        super().__init__(course, rng, runtime, with_lessons=with_lessons)
        self.name = name
        self.graph = course.graph(with_lessons=with_lessons)
        self.config = PlannerConfig(mastery_threshold=threshold, max_steps=1)
        self.display_graph = DisplayGraph(
            prerequisites={s: tuple(p) for s, p in course.prerequisites.items()},
            names=course.names,
        )
        self.display_config = DisplayConfig(threshold=threshold)
        self.shown = DisplayState()
        self.solved_at: dict[int, datetime] = {}
        self.completed: set[int] = set()
        self.wrong: dict[int, int] = {}
        self.lesson_read_at: dict[int, datetime] = {}
        incidence = np.zeros((len(course.items), len(runtime.skill_ids)))
        for item in course.items:
            incidence[item.key, list(item.skills)] = 1.0 / len(item.skills)
        self.incidence = incidence
        self.lessons = {lesson.key: lesson for lesson in course.lessons}

    def observe(self, item, correct):
        super().observe(item, correct)
        raw = dict(enumerate(self.mastery().tolist()))
        self.shown = attempt_fold(
            self.shown, item.skills, correct, raw, self.display_graph, self.display_config
        )
        if correct:
            self.solved_at[item.key] = self.now
        else:
            for skill in item.skills:
                self.wrong[skill] = self.wrong.get(skill, 0) + 1

    def observe_lesson(self, lesson):
        super().observe_lesson(lesson)
        self.completed.add(lesson.key)
        self.lesson_read_at[lesson.key] = self.now

    def choose(self):
        mastery = self.mastery()
        raw = dict(enumerate(mastery.tolist()))
        shown = shown_mastery(self.shown, raw, self.display_graph, self.display_config)
        success = self.incidence @ self.runtime.correct_probability(mastery)
        snapshot = LearnerSnapshot(
            mastery={s: v.value for s, v in shown.items() if v.value is not None},
            caveats={s: v.caveat for s, v in shown.items() if v.caveat},
            predicted_success=dict(enumerate(success.tolist())),
            completed_lesson_ids=frozenset(self.completed),
            attempted_exercise_ids=frozenset(self.seen),
            last_practised=self.last_practised,
            solved_at=self.solved_at,
            wrong=self.wrong,
            lesson_read_at=self.lesson_read_at,
        )
        steps = plan_build(self.graph, snapshot, self.config, now=self.now)
        if steps and steps[0].lesson_id is not None:  # a lesson, or a lesson to review
            return "lesson", self.lessons[steps[0].lesson_id]
        if steps and steps[0].exercise_id is not None:
            return "exercise", self.course.items[steps[0].exercise_id]
        # Nothing planned (everything shown mastered, nothing due): the least certain exercise.
        return "exercise", min(
            self.course.items,
            key=lambda i: self.runtime.predicted_success(mastery, list(i.skills)),
        )


# Simulation ------------------------------------------------------------------------------------


def run_student(student: Student, policy_factory, world_name: str, course, budget, max_steps):
    world = WORLDS[world_name](
        deepcopy(student.state),
        course.prerequisites,
        np.random.default_rng(student.seed),  # the same answers and learning for every policy
    )
    policy = policy_factory(np.random.default_rng(student.seed + 1), world.has_lessons)
    all_skills = set(course.prerequisites)
    steps_to_master = None
    post_test = None
    for step in range(1, max_steps + 1):
        kind, target = policy.choose()
        if kind == "lesson":
            world.study(target)
            policy.observe_lesson(target)
        else:
            correct = world.answer(target)
            policy.observe(target, correct)
        world.tick()
        if step == budget:
            post_test = float(np.mean([world.p_correct(i) for i in course.items]))
        if steps_to_master is None and world.known() >= all_skills:
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
    parser.add_argument("--worlds", default=",".join(WORLDS), help="student models to run")
    args = parser.parse_args()

    course = course_model()
    items, prerequisites = course.items, course.prerequisites
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
        "syllabus": lambda rng, lessons: Syllabus(course, rng, with_lessons=lessons),
        "random": lambda rng, lessons: Random(course, rng, with_lessons=lessons),
        "lowest_mastery": lambda rng, lessons: LowestMastery(
            course, rng, default_bkt, with_lessons=lessons
        ),
        "pathwise_bkt": lambda rng, lessons: Pathwise(
            course,
            rng,
            bkt_runtime,
            settings.PATHWISE_MASTERY_THRESHOLD,
            "pathwise_bkt",
            with_lessons=lessons,
        ),
        "pathwise_gru": lambda rng, lessons: Pathwise(
            course,
            rng,
            gru_runtime,
            settings.PATHWISE_GRU_MASTERY_THRESHOLD,
            "pathwise_gru",
            with_lessons=lessons,
        ),
    }
    students = students_sample(args.students, prerequisites, args.seed + 100)
    worlds = [name for name in args.worlds.split(",") if name]
    matrix: dict[str, dict[str, dict]] = {}
    for world in worlds:
        rows = matrix.setdefault(world, {})
        for name, factory in policies.items():
            started = time.perf_counter()
            outcomes = [
                run_student(s, factory, world, course, args.budget, args.max_steps)
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
            print(f"  {world}/{name}: done in {rows[name]['seconds']:.1f} s", file=sys.stderr)

    print()
    print(
        f"Learning gain on the demo course ({len(prerequisites)} skills, {len(items)} exercises, "
        f"{len(course.lessons)} lessons), {args.students} simulated students per student model; "
        f"models trained on {trained_on:,} simulated attempts in {train_seconds:.0f} s"
    )
    for world, rows in matrix.items():
        baseline = rows["syllabus"]["steps"]
        print(f"\nstudent model: {world}")
        print(
            f"{'policy':<18}{'steps to master all':>22}{'reached':>9}"
            f"{f'post-test @{args.budget}':>16}{'vs syllabus':>13}"
        )
        for name, row in rows.items():
            row["fewer_steps_than_syllabus"] = 1 - row["steps"] / baseline
            print(
                f"{name:<18}{row['steps']:>14.1f} ± {row['steps_std']:<5.1f}"
                f"{row['mastered_share']:>9.0%}{row['post_test']:>16.3f}"
                f"{row['fewer_steps_than_syllabus']:>12.0%}"
            )
    print(f"(steps capped at {args.max_steps}; 'vs syllabus' = fewer steps than syllabus order)")
    output = {
        "figures": {
            f"{world}.{name}.{key}": round(row[key], 4)
            for world, rows in matrix.items()
            for name, row in rows.items()
            for key in ("steps", "post_test", "fewer_steps_than_syllabus")
        },
        "matrix": matrix,
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
