"""Mastery a student can believe: today's engine (the raw model estimate as shown) beside the new
one (adaptive.display), replaying the same learners through the same model, in one run.

For every attempt it measures what the student would be shown before and after:

- consistency (Yeung & Yeung 2018, DKT+): share of right answers after which the shown mastery
  of an answered skill goes down, and of wrong answers after which it goes up; waviness w1/w2
  (mean absolute / squared change of every skill's shown value per step); mean absolute change
  of the skills not in the attempt;
- the display rules (docs/mastery-display.md): violations of evidence, direction, neighbours,
  coherence and vocabulary, counted by `adaptive.display.rule_violations`;
- on the demo simulator, where the truth is known: AUC of the shown mastery of an item's skills
  before the attempt against "every skill of the item truly known" (AUC), and the same over
  attempts whose skills all had own attempts before (AUCp: practised skills only).

Replays:
- demo: learners of `learners.demo.simulation` on the demo course (its prerequisite graph),
  through BKT fitted by EM and a GRU trained on another simulated cohort (GRU with emission
  parameters, as served);
- ASSIST2009 (/work/shared/datasets/assist2009_akt): a sample of learners through BKT fitted on
  other learners of the dataset. The GRU is left out there to keep the run short (training it on
  ASSIST2009 takes minutes). ASSIST2009 has no prerequisite graph, so neighbours and coherence
  are checked against a graph without edges (no skill may move but the answered ones).

    nice .venv/bin/python bench/mastery_trust.py [--demo-learners 200] [--assist-learners 300]

Results go to bench/results/mastery_trust.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from adaptive.display import (  # noqa: E402
    ALMOST,
    MASTERED,
    RULES,
    DisplayConfig,
    DisplayGraph,
    DisplayState,
    ShownSkill,
    attempt_fold,
    percent_of,
    rule_violations,
    shown_mastery,
    status_of,
)
from adaptive.ml.bkt import bkt_fit  # noqa: E402
from adaptive.ml.metrics import auc  # noqa: E402
from adaptive.ml.sequences import (  # noqa: E402
    SequenceSet,
    sequences_subset,
    windows_build,
)
from adaptive.serving import Runtime  # noqa: E402
from learners.demo.simulation import cohort_simulate  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from kt_quality import load_assist2009  # noqa: E402  (the bench's loader: one reading)
from learning_gain import course_model, train_models  # noqa: E402

STREAK = 3
Attempt = tuple[tuple[int, ...], bool, bool | None]  # skills, correct, truth (known) or None


def today_shown(
    raw: dict[int, float], streaks: dict[int, int], graph: DisplayGraph, config: DisplayConfig
) -> dict[int, ShownSkill]:
    """What today's engine shows: the raw estimate as a bar for every skill; "mastered" when
    the estimate reached the threshold or after three right in a row (the old planner rule)."""
    shown = {}
    for skill in graph.prerequisites:
        value = raw[skill]
        mastered = value >= config.threshold or streaks.get(skill, 0) >= STREAK
        status = MASTERED if mastered else status_of(value, config)
        if status == MASTERED and not mastered:  # 94.6% reads 95% but was "not mastered"
            status = ALMOST
        shown[skill] = ShownSkill(
            skill, graph.names.get(skill, ""), status, value, percent_of(value)
        )
    return shown


class Tally:
    """Consistency figures and rule violations of one engine over a replay."""

    def __init__(self) -> None:
        self.right_pairs = self.right_lowered = 0
        self.wrong_pairs = self.wrong_raised = 0
        self.w1: list[float] = []
        self.w2: list[float] = []
        self.others: list[float] = []
        self.violations = dict.fromkeys(RULES, 0)
        self.attempts = 0
        self.truth: list[int] = []
        self.predicted: list[float] = []
        self.practised: list[bool] = []  # every skill of the item had own attempts before
        self.not_started_shown_high = self.not_started_cells = 0

    def add(
        self,
        before: dict[int, float | None],
        after: dict[int, float | None],
        skills: Sequence[int],
        correct: bool,
        found: dict[str, int],
    ) -> None:
        self.attempts += 1
        for skill in skills:
            old, new = before.get(skill), after.get(skill)
            if old is None or new is None:
                continue
            if correct:
                self.right_pairs += 1
                self.right_lowered += new < old - 1e-9
            else:
                self.wrong_pairs += 1
                self.wrong_raised += new > old + 1e-9
        deltas = np.array([(after[s] or 0.0) - (before[s] or 0.0) for s in before])
        self.w1.append(float(np.mean(np.abs(deltas))))
        self.w2.append(float(np.mean(deltas**2)))
        others = [abs((after[s] or 0.0) - (before[s] or 0.0)) for s in before if s not in skills]
        if others:
            self.others.append(float(np.mean(others)))
        for rule, count in found.items():
            self.violations[rule] += count

    def summary(self) -> dict:
        result = {
            "attempts": self.attempts,
            "right_answers_lowering_shown": self.right_lowered / max(self.right_pairs, 1),
            "wrong_answers_raising_shown": self.wrong_raised / max(self.wrong_pairs, 1),
            "waviness_w1": float(np.mean(self.w1)) if self.w1 else 0.0,
            "waviness_w2": float(np.mean(self.w2)) if self.w2 else 0.0,
            "mean_change_other_skills": float(np.mean(self.others)) if self.others else 0.0,
            "violations": dict(self.violations),
            "violations_total": sum(self.violations.values()),
            "never_practised_cells_shown_at_50_or_more": (
                self.not_started_shown_high / max(self.not_started_cells, 1)
            ),
        }
        if self.truth and len(set(self.truth)) == 2:
            truth, predicted = np.array(self.truth), np.array(self.predicted)
            result["auc_shown_vs_truth"] = auc(truth, predicted)
            practised = np.array(self.practised)
            if len(set(truth[practised])) == 2:
                result["auc_shown_vs_truth_practised"] = auc(truth[practised], predicted[practised])
        return result


def replay(
    runtime: Runtime,
    learners: Iterable[list[Attempt]],
    graph: DisplayGraph,
    config: DisplayConfig,
) -> dict[str, dict]:
    """Replay learners attempt by attempt; today's and the new engine side by side."""
    tallies = {"today": Tally(), "new": Tally()}
    index = runtime.skill_index
    skills_all = list(graph.prerequisites)
    dependents = graph.dependents()
    for attempts in learners:
        state = runtime.initial_state()
        raw_vector = runtime.mastery(state)
        raw = {s: float(raw_vector[index[s]]) for s in skills_all}
        streaks: dict[int, int] = {}
        new_state = DisplayState()
        attempted: set[int] = set()
        for skills, correct, truth in attempts:
            # shown before the attempt (for the AUC against the truth and the changes)
            today_before = DisplayState(values=dict(raw), streak=dict(streaks))
            new_before = new_state
            if truth is not None:
                practised = all(s in attempted for s in skills)
                tallies["today"].practised.append(practised)
                tallies["new"].practised.append(practised)
                tallies["today"].truth.append(int(truth))
                tallies["today"].predicted.append(float(np.mean([raw[s] for s in skills])))
                tallies["new"].truth.append(int(truth))
                tallies["new"].predicted.append(
                    float(np.mean([new_state.values.get(s, 0.0) for s in skills]))
                )
            state = runtime.step(state, list(skills), correct, 0)
            raw_vector = runtime.mastery(state)
            raw = {s: float(raw_vector[index[s]]) for s in skills_all}
            for skill in skills:
                streaks[skill] = streaks.get(skill, 0) + 1 if correct else 0
            attempted.update(skills)
            today_after = DisplayState(values=dict(raw), streak=dict(streaks))
            new_state = attempt_fold(
                new_state, skills, correct, raw, graph, config, dependents=dependents
            )
            for name, before, after, shown in (
                ("today", today_before, today_after, today_shown(raw, streaks, graph, config)),
                ("new", new_before, new_state, shown_mastery(new_state, raw, graph, config)),
            ):
                found = rule_violations(
                    before=before,
                    after=after,
                    shown=shown,
                    skill_ids=skills,
                    is_correct=correct,
                    attempted=attempted,
                    graph=graph,
                    config=config,
                )
                tally = tallies[name]
                tally.add(
                    {s: before.values.get(s) for s in skills_all},
                    {s: after.values.get(s) for s in skills_all},
                    skills,
                    correct,
                    found,
                )
                for skill in skills_all:
                    if skill not in attempted:
                        tally.not_started_cells += 1
                        tally.not_started_shown_high += (shown[skill].percent or 0) >= 50
    return {name: tally.summary() for name, tally in tallies.items()}


# Demo ------------------------------------------------------------------------------------------


def demo_course():
    """The demo course as learning_gain sees it, with display's graph (one course model)."""
    course = course_model()
    graph = DisplayGraph(
        prerequisites={s: tuple(p) for s, p in course.prerequisites.items()}, names=course.names
    )
    return course.items, course.prerequisites, graph


def demo_models(items, prerequisites, cohort: int, epochs: int, seed: int) -> dict[str, Runtime]:
    """BKT (EM) and the GRU with emission parameters, trained as learning_gain trains them."""
    bkt, gru, _attempts, _seconds = train_models(items, prerequisites, cohort, epochs, seed)
    return {"bkt": bkt, "gru": gru}


def demo_learners(items, prerequisites, count: int, seed: int) -> list[list[Attempt]]:
    by_learner: dict[int, list[Attempt]] = {}
    for r in cohort_simulate(learners=count, items=items, prerequisites=prerequisites, seed=seed):
        by_learner.setdefault(r.learner, []).append(
            (tuple(r.skills), bool(r.is_correct), bool(r.mastered_before))
        )
    return list(by_learner.values())


# ASSIST2009 ------------------------------------------------------------------------------------


def assist_sequences(data_dir: Path) -> tuple[SequenceSet, dict[int, str]]:
    sequences, _folds, _counts = load_assist2009(data_dir)
    names: dict[int, str] = {}
    skills_csv = data_dir / "assist2009_akt" / "skills.csv"
    for line in skills_csv.read_text().splitlines()[1:]:
        number, _, name = line.partition(",")
        names[int(number) - 1] = name
    return sequences, names


def assist_learners(sequences: SequenceSet, rows: np.ndarray) -> list[list[Attempt]]:
    learners = []
    for row in rows:
        start, end = sequences.offsets[row], sequences.offsets[row + 1]
        attempts = []
        for step in range(start, end):
            skills = tuple(int(s) for s in sequences.skills[step] if s >= 0)
            if skills:
                attempts.append((skills, bool(sequences.correct[step]), None))
        learners.append(attempts)
    return learners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-learners", type=int, default=200)
    parser.add_argument(
        "--demo-cohort", type=int, default=1000, help="simulated learners to fit on"
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--assist-learners", type=int, default=300)
    parser.add_argument("--assist-fit-learners", type=int, default=2000)
    parser.add_argument("--data-dir", default="/work/shared/datasets")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    from django.conf import settings

    results: dict[str, dict] = {}
    started = time.perf_counter()
    items, prerequisites, graph = demo_course()
    models = demo_models(items, prerequisites, args.demo_cohort, args.epochs, args.seed)
    learners = demo_learners(items, prerequisites, args.demo_learners, args.seed + 1)
    config = DisplayConfig(threshold=settings.PATHWISE_MASTERY_THRESHOLD)
    for name, runtime in models.items():
        began = time.perf_counter()
        results[f"demo.{name}"] = replay(runtime, learners, graph, config)
        results[f"demo.{name}"]["seconds"] = time.perf_counter() - began
        print(f"  demo/{name}: {time.perf_counter() - began:.1f} s", file=sys.stderr)

    data_dir = Path(args.data_dir)
    if (data_dir / "assist2009_akt" / "interactions.csv.gz").exists():
        began = time.perf_counter()
        sequences, names = assist_sequences(data_dir)
        rng = np.random.default_rng(args.seed)
        order = rng.permutation(sequences.n_learners)
        fit_rows = order[: args.assist_fit_learners]
        replay_rows = order[
            args.assist_fit_learners : args.assist_fit_learners + args.assist_learners
        ]
        bkt = bkt_fit(windows_build(sequences_subset(sequences, sequences.learner_ids[fit_rows])))
        skills = tuple(range(sequences.n_skills))
        runtime = Runtime(model_version_id=None, kind="bkt", skill_ids=skills, bkt=bkt)
        assist_graph = DisplayGraph(
            prerequisites=dict.fromkeys(skills, ()), names={s: names.get(s, str(s)) for s in skills}
        )
        results["assist2009.bkt"] = replay(
            runtime, assist_learners(sequences, replay_rows), assist_graph, config
        )
        results["assist2009.bkt"]["seconds"] = time.perf_counter() - began
        print(f"  assist2009/bkt: {time.perf_counter() - began:.1f} s", file=sys.stderr)

    print()
    print("Mastery trust: today's engine (raw estimate shown) vs the new one (adaptive.display)")
    header = (
        f"{'replay':<18}{'engine':<7}{'right->down':>12}{'wrong->up':>10}{'w1':>8}{'w2':>9}"
        f"{'others':>8}{'AUC':>7}{'AUCp':>7}{'untouched>=50%':>16}  violations (ev/dir/nb/coh/voc)"
    )
    print(header)
    for replay_name, engines in results.items():
        for engine in ("today", "new"):
            row = engines[engine]
            v = row["violations"]
            print(
                f"{replay_name:<18}{engine:<7}{row['right_answers_lowering_shown']:>12.1%}"
                f"{row['wrong_answers_raising_shown']:>10.1%}{row['waviness_w1']:>8.4f}"
                f"{row['waviness_w2']:>9.5f}{row['mean_change_other_skills']:>8.4f}"
                f"{row.get('auc_shown_vs_truth', float('nan')):>7.3f}"
                f"{row.get('auc_shown_vs_truth_practised', float('nan')):>7.3f}"
                f"{row['never_practised_cells_shown_at_50_or_more']:>16.1%}  "
                + "/".join(str(v[rule]) for rule in RULES)
            )
    output = {
        "figures": {
            f"{replay_name}.{engine}.{key}": round(float(engines[engine][key]), 5)
            for replay_name, engines in results.items()
            for engine in ("today", "new")
            for key in (
                "right_answers_lowering_shown",
                "wrong_answers_raising_shown",
                "waviness_w1",
                "waviness_w2",
                "mean_change_other_skills",
                "violations_total",
            )
        },
        "results": results,
        "seconds": time.perf_counter() - started,
        "command": "python bench/mastery_trust.py " + " ".join(sys.argv[1:]),
    }
    out = ROOT / "bench" / "results" / "mastery_trust.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
