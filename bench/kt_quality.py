"""Knowledge-tracing quality: served and windowed AUC, consistency and training speed, one run.

Reads any file of the shared long format (``/work/shared/datasets/README.md``): one row per
attempt with a learner column, an order column, a skill column, a 0/1 correctness column and
optionally a problem column and a fold column. Columns are found by name from fixed candidate
lists (``--learner-col`` etc. override); nothing depends on the dataset's name:

* skills and problems are re-indexed over the values present (``np.unique``);
* when there is a problem column, consecutive rows of one learner that repeat the problem and
  the answer with another skill (one row per skill of a multi-skill problem, as in ASSIST2009)
  are merged into ONE attempt with several skills, so no attempt is predicted from a copy;
* folds: a fold column with a ``-1`` value is pyKT's protocol (fold -1 is the test set, fold k
  validates, the rest train); another fold column gives the test fold (its k-th value; 10% of
  the others validate, seeded; a value held by under 5% of learners is no fold and always
  trains); without one, a seeded 5-fold split of learners.

``--dataset demo=simulated:N`` simulates N students on the demo course with the project's own
simulator (``learners.demo.simulation``, following the syllabus), as ``make run`` seeds them.

For every recurrent model the table gives the AUC in two regimes on the same test learners:
**windowed** (histories cut into 200-step windows, state reset at each: the published protocol)
and **served** (each history replayed in full through ``adaptive.ml.step``, the NumPy step the
workers serve with). The product model trains by truncated backpropagation through time with
the state carried across chunks (``adaptive.ml.training``); ``legacy`` is the loop of before
(``train_on_batch`` on independent windows), trained in the same run for the throughput ratio.
``dktplus`` adds the DKT+ regularisers (Yeung & Yeung 2018), weights chosen on the validation
learners from ``--dktplus-grid``; consistency figures (``adaptive.ml.consistency``) are printed
for every model. Writes ``bench/results/kt_quality.json``.

    nice python bench/kt_quality.py --quick --dataset assist2009=PATH --models gru,dktplus,bkt
    python bench/kt_quality.py --folds 5 --dataset NAME=PATH
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform as platform_info
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from adaptive.ml import metrics  # noqa: E402
from adaptive.ml.bkt import bkt_fit, bkt_predict_sequences  # noqa: E402
from adaptive.ml.consistency import consistency_figures  # noqa: E402
from adaptive.ml.sequences import (  # noqa: E402
    SequenceSet,
    Windows,
    learners_kfold,
    learners_split,
    sequences_build,
    sequences_subset,
    windows_build,
)
from adaptive.ml.step import sequences_replay  # noqa: E402

ANCHORS = {
    "assist2009": {"pyKT DKT": 0.7541, "pyKT AKT": 0.7853, "pyKT IEKT (best)": 0.7861},
    "assist2015": {"pyKT DKT": 0.7271, "pyKT AKT": 0.7281},
}
DEFAULT_PYKT_PYTHON = os.environ.get(
    "PYKT_PYTHON", str(Path(tempfile.gettempdir()) / "pyktvenv" / "bin" / "python")
)
COLUMNS = {
    "learner": ("pykt_uid", "user_id", "student_id", "learner_id", "user"),
    "order": ("seq_idx", "order_id", "timestamp", "time", "created_at"),
    "skill": ("skill_idx", "pykt_concept", "skill_id", "concept", "skill"),
    "correct": ("correct", "is_correct", "response"),
    "problem": ("problem_id", "item_id", "question_id", "exercise_id"),
    "fold": ("akt_test_fold", "pykt_fold", "fold"),
}
# DKT+ grid (reconstruction r, waviness w1, w2): Yeung & Yeung's ASSIST2009 choice first.
DEFAULT_DKTPLUS_GRID = "0.1,0.003,3.0;0.05,0.03,0.3;0.2,0.01,1.0"
AUC_DROP_BOUND = 0.003


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (a running maximum, not per model)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _column(frame: pd.DataFrame, role: str, override: str | None) -> str | None:
    if override:
        if override not in frame.columns:
            raise SystemExit(f"--{role}-col {override!r} is not a column of the file")
        return override
    return next((name for name in COLUMNS[role] if name in frame.columns), None)


def load_long(path: Path, args: argparse.Namespace) -> tuple[SequenceSet, dict, dict]:
    """Sequences, each learner's fold value (or None) and counts, from a long-format file."""
    frame = pd.read_csv(path)
    roles = {
        role: _column(frame, role, getattr(args, f"{role}_col"))
        for role in ("learner", "order", "skill", "correct", "problem", "fold")
    }
    missing = [role for role in ("learner", "skill", "correct") if roles[role] is None]
    if missing:
        raise SystemExit(f"{path}: no {', '.join(missing)} column (columns: {list(frame.columns)})")
    order = roles["order"]
    frame = frame.sort_values(
        [roles["learner"], order] if order else [roles["learner"]], kind="stable"
    ).reset_index(drop=True)
    frame = frame.dropna(subset=[roles["learner"], roles["skill"], roles["correct"]])
    users = frame[roles["learner"]].to_numpy()
    skill_values, skills = np.unique(frame[roles["skill"]].to_numpy(), return_inverse=True)
    answers = frame[roles["correct"]].to_numpy().astype(np.int64)
    problem_column = roles["problem"]
    problem_ids = (
        np.unique(frame[problem_column].to_numpy(), return_inverse=True)[1] + 1
        if problem_column
        else None
    )
    # Merge consecutive rows of one learner repeating problem and answer with another skill.
    starts = np.ones(len(frame), dtype=bool)
    if problem_ids is not None and len(frame):
        same = (
            (users[1:] == users[:-1])
            & (problem_ids[1:] == problem_ids[:-1])
            & (answers[1:] == answers[:-1])
            & (skills[1:] != skills[:-1])
        )
        starts[1:] = ~same
    attempt_of_row = np.cumsum(starts) - 1
    n_attempts = int(attempt_of_row[-1] + 1) if len(frame) else 0
    merged_skills: list[list[int]] = [[] for _ in range(n_attempts)]
    for row, attempt in enumerate(attempt_of_row):
        if skills[row] not in merged_skills[attempt]:
            merged_skills[attempt].append(int(skills[row]))
    first_rows = np.flatnonzero(starts)
    sequences = sequences_build(
        learners=users[first_rows],
        times=np.arange(n_attempts),
        skills=merged_skills,
        correct=answers[first_rows],
        n_skills=len(skill_values),
        problems=None if problem_ids is None else problem_ids[first_rows],
        n_problems=0 if problem_ids is None else int(problem_ids.max()),
    )
    folds = (
        frame.groupby(roles["learner"])[roles["fold"]].first().to_dict() if roles["fold"] else {}
    )
    counts = {"rows": len(frame), "attempts_after_merge": n_attempts, "columns": roles}
    return sequences, folds, counts


def load_demo(learners: int, seed: int) -> tuple[SequenceSet, dict, dict]:
    """Students simulated on the demo course (the project's simulator, syllabus order)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()  # learners.demo.seeding (the guess rates by exercise kind) needs the apps
    from learners.demo import content
    from learners.demo.seeding import GUESS_BY_KIND
    from learners.demo.simulation import SimulatedItem, cohort_simulate

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
    responses = cohort_simulate(
        learners=learners, items=items, prerequisites=prerequisites, seed=seed
    )
    sequences = sequences_build(
        learners=[r.learner for r in responses],
        times=[r.step for r in responses],
        skills=[list(r.skills) for r in responses],
        correct=[int(r.is_correct) for r in responses],
        n_skills=len(prerequisites),
        problems=[int(r.item) + 1 for r in responses],
        n_problems=len(items),
    )
    return sequences, {}, {"rows": len(responses), "attempts_after_merge": len(responses)}


def fold_splits(sequences: SequenceSet, folds: dict, fold: int, seed: int) -> dict[str, np.ndarray]:
    """Learner ids of train / validation / test for one fold, never sharing a learner."""
    ids = sequences.learner_ids
    if folds:
        fold_of = np.array([folds[learner] for learner in ids])
        # A fold value held by under 5% of the learners is no fold (ASSIST2009's lone 0):
        # those learners always train.
        found, sizes = np.unique(fold_of, return_counts=True)
        values = sorted(
            v
            for v, n in zip(found.tolist(), sizes, strict=True)
            if n >= 0.05 * len(ids) and v != -1
        )
        if -1 in set(fold_of.tolist()):
            test = ids[fold_of == -1]
            validation = ids[fold_of == values[fold]]
            train = ids[(fold_of != values[fold]) & (fold_of != -1)]
        else:
            test = ids[fold_of == values[fold]]
            pool = ids[fold_of != values[fold]]
            train, validation = learners_split(pool, fractions=(0.9, 0.1), seed=seed + fold)
    else:
        # Five parts whatever --folds says (it only says how many of them are run).
        parts = learners_kfold(ids, k=5, seed=seed)
        test = parts[fold]
        pool = np.setdiff1d(ids, test)
        train, validation = learners_split(pool, fractions=(0.9, 0.1), seed=seed + fold)
    if set(train) & set(test) or set(validation) & set(test):
        raise RuntimeError(f"fold {fold}: a learner is in two splits")
    return {"train": train, "validation": validation, "test": test}


def served(sequences: SequenceSet, predictions: np.ndarray) -> dict[str, float]:
    """AUC and friends of per-attempt predictions from the whole earlier history."""
    labels, predicted, learners = metrics.served_targets(sequences, predictions)
    summary = metrics.metrics_summary(labels, predicted)
    low, high = metrics.auc_bootstrap(labels, predicted, learners, resamples=100)
    return {
        "auc": summary["auc"],
        "auc_ci_low": low,
        "auc_ci_high": high,
        "acc": summary["acc"],
        "rmse": summary["rmse"],
        "n": summary["n"],
    }


def run_bkt(data: dict[str, Any]) -> dict[str, Any]:
    """Fit BKT by EM on the training learners; served AUC and consistency on the test ones."""
    started = time.perf_counter()
    params = bkt_fit(windows_build(data["train"]))
    seconds = time.perf_counter() - started
    result = {"served": served(data["test"], bkt_predict_sequences(params, data["test"]))}
    result["consistency"] = consistency_figures(data["test"], bkt=params)
    result.update({"fit_seconds": seconds, "peak_rss_mib": peak_rss_mib()})
    return result


def _windowed_auc(model: Any, windows: Windows) -> float:
    from adaptive.ml.inference import windows_predict

    return metrics.auc(*metrics.flatten_targets(windows.labels, windows_predict(model, windows)))


def evaluate_dkt(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Windowed and served AUC and the consistency figures of a trained model on test learners."""
    from adaptive.ml.step import step_weights_export
    from adaptive.ml.training import blas_single_thread

    weights = step_weights_export(model)
    windowed = _windowed_auc(model, data["test_windows"])
    with blas_single_thread():  # see adaptive.ml.training: ~10x faster replays on a busy machine
        replayed = sequences_replay(weights, data["test"]).predictions
        consistency = consistency_figures(data["test"], step_weights=weights)
    return {
        "windowed_auc": windowed,
        "served": served(data["test"], replayed),
        "consistency": consistency,
    }


def run_dkt(data: dict[str, Any], config: Any, label: str) -> dict[str, Any]:
    """Train the product's way (TBPTT, Model.fit, early stopping on served validation AUC)."""
    from adaptive.ml.training import dkt_train

    def progress(epoch: int, logs: dict[str, float]) -> None:
        print(
            f"    {label} epoch {epoch}: loss {logs['loss']:.4f} served val_auc "
            f"{logs['val_auc']:.4f} {logs['seconds']:.1f}s (state carry "
            f"{logs['state_seconds']:.1f}s) {logs['interactions_per_second']:.0f} int/s",
            flush=True,
        )

    trained = dkt_train(data["train"], data["validation"], config=config, on_epoch=progress)
    result = evaluate_dkt(trained.model, data)
    result.update(
        {
            "seconds_per_epoch": trained.seconds_per_epoch,
            "state_seconds_per_epoch": mean([h["state_seconds"] for h in trained.history]),
            "epoch_seconds": [h["seconds"] for h in trained.history],
            "interactions_per_s": trained.interactions_per_second,
            "epochs_run": len(trained.history),
            "best_epoch": trained.best_epoch,
            "validation_auc": trained.best_validation_auc,
            "peak_rss_mib": peak_rss_mib(),
            "config": config.as_dict(),
        }
    )
    if config.reconstruction or config.waviness_l1 or config.waviness_l2:
        from adaptive.ml.step import step_weights_export

        result["validation_consistency"] = consistency_figures(
            data["validation"], step_weights=step_weights_export(trained.model)
        )
    return result


class LegacyLoop:
    """The training loop of before: ``train_on_batch`` on independent windows, one epoch a call.

    Independent 200-step windows (state reset to zeros at each), length-bucketed batches padded
    to multiples of 25 steps, the same GRU and sample-weight normalisation as the product.
    """

    def __init__(self, train: SequenceSet, config: Any) -> None:
        import keras

        from adaptive.ml.dkt import DKTConfig, dkt_build, dkt_compile

        keras.utils.set_random_seed(config.seed)
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.train = windows_build(train)
        self.model_config = DKTConfig(
            n_skills=self.train.n_skills,
            n_problems=self.train.n_problems if config.use_problems else 0,
            embedding_dim=config.embedding_dim,
            hidden_units=config.hidden_units,
            cell=config.cell,
            dropout=config.dropout,
            l2=config.l2,
            problem_l2=config.problem_l2,
        )
        self.model = dkt_compile(
            dkt_build(self.model_config),
            learning_rate=config.learning_rate,
            clipnorm=config.clipnorm,
        )
        n_batches = -(-self.train.n_windows // config.batch_size)
        self.normalizer = max(self.train.n_targets / max(n_batches, 1), 1.0)

    def epoch(self) -> None:
        """One pass over the training windows."""
        from adaptive.ml.inference import length_batches

        train, config = self.train, self.config
        batches = length_batches(train.lengths, batch_size=config.batch_size, rng=self.rng)
        for rows, steps in batches:
            steps = min(steps, train.labels.shape[1])
            inputs = train.model_inputs(rows, steps, problems=config.use_problems)
            inputs["initial_state"] = np.zeros(
                (len(rows), self.model_config.state_size), np.float32
            )
            labels = train.labels[rows, :steps]
            self.model.train_on_batch(
                inputs, np.maximum(labels, 0.0), sample_weight=(labels >= 0) / self.normalizer
            )


def run_legacy(data: dict[str, Any], config: Any, label: str) -> dict[str, Any]:
    """The training loop of before (:class:`LegacyLoop`) with validation and patience.

    Validation by windowed AUC after each epoch, best weights kept, ``patience`` epochs.
    """
    loop = LegacyLoop(data["train"], config)
    model = loop.model
    validation = windows_build(data["validation"])
    attempts = float(data["train"].n_attempts)
    best, best_weights, stale, seconds_total, epochs = -math.inf, model.get_weights(), 0, 0.0, 0
    epoch_seconds: list[float] = []
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        loop.epoch()
        seconds = time.perf_counter() - started
        seconds_total += seconds
        epoch_seconds.append(seconds)
        epochs = epoch
        validation_auc = _windowed_auc(model, validation)
        print(
            f"    {label} epoch {epoch}: windowed val_auc {validation_auc:.4f} {seconds:.1f}s "
            f"{attempts / seconds:.0f} int/s",
            flush=True,
        )
        if validation_auc > best:
            best, best_weights, stale = validation_auc, model.get_weights(), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.set_weights(best_weights)
    result = evaluate_dkt(model, data)
    result.update(
        {
            "seconds_per_epoch": seconds_total / max(epochs, 1),
            "epoch_seconds": epoch_seconds,
            # The same attempt count as the product's (all training attempts), for the ratio.
            "interactions_per_s": attempts * epochs / seconds_total,
            "epochs_run": epochs,
            "validation_auc": best,
            "peak_rss_mib": peak_rss_mib(),
        }
    )
    return result


def run_throughput(data: dict[str, Any], config: Any, epochs: int, label: str) -> dict[str, Any]:
    """Epochs of the product's ``fit`` (TBPTT, state carry) and of :class:`LegacyLoop`, interleaved.

    Both train the same learners in one process; each round runs one epoch of each, in turns
    (fit first in odd rounds, the old loop first in even ones) so that a change of load hits
    both. Every epoch is timed in wall and CPU seconds (``time.process_time``: all threads of
    the process, so less moved by other jobs than wall time); the product's epoch includes its
    state carry, not ``fit``'s per-call setup. Ratios are per round (old seconds / fit
    seconds for the same attempts), summarised by the median of rounds 2.. (round 1 traces).
    """
    import keras

    from adaptive.ml.training import fit_prepare

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.wall = time.perf_counter() - self.wall
            self.cpu = time.process_time() - self.cpu

    parts = fit_prepare(data["train"], None, config=config)
    legacy = LegacyLoop(data["train"], config)
    timer = Timer()
    refreshed = False
    attempts = data["train"].n_attempts
    rounds: list[dict[str, float]] = []

    def fit_epoch() -> tuple[float, float]:
        nonlocal refreshed
        if refreshed:  # the state carry before the first epoch only, as in one fit call
            parts.carried.on_train_begin = lambda logs=None: None  # type: ignore[method-assign]
        parts.training_model.fit(
            parts.dataset, epochs=1, callbacks=[parts.carried, timer], verbose=0
        )
        refreshed = True
        return timer.wall, timer.cpu

    def legacy_epoch() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        legacy.epoch()
        return time.perf_counter() - wall, time.process_time() - cpu

    for number in range(1, epochs + 1):
        load = os.getloadavg()[0]
        if number % 2:
            fit_wall, fit_cpu = fit_epoch()
            old_wall, old_cpu = legacy_epoch()
        else:
            old_wall, old_cpu = legacy_epoch()
            fit_wall, fit_cpu = fit_epoch()
        rounds.append(
            {
                "round": number,
                "fit_seconds": fit_wall,
                "fit_cpu_seconds": fit_cpu,
                "state_seconds": parts.carried.history[-1]["state_seconds"],
                "legacy_seconds": old_wall,
                "legacy_cpu_seconds": old_cpu,
                "ratio_wall": old_wall / fit_wall,
                "ratio_cpu": old_cpu / fit_cpu,
                "load_1min_before": load,
            }
        )
        r = rounds[-1]
        print(
            f"    {label} round {number}: fit {fit_wall:.1f}s ({fit_cpu:.1f} cpu-s, carry "
            f"{r['state_seconds']:.1f}s) {attempts / fit_wall:.0f} att/s | old loop "
            f"{old_wall:.1f}s ({old_cpu:.1f} cpu-s) {attempts / old_wall:.0f} att/s | ratio "
            f"wall {r['ratio_wall']:.2f} cpu {r['ratio_cpu']:.2f} | load {load:.1f}",
            flush=True,
        )
    later = rounds[1:] or rounds
    return {
        "rounds": rounds,
        "attempts": attempts,
        "median_ratio_wall": float(np.median([r["ratio_wall"] for r in later])),
        "median_ratio_cpu": float(np.median([r["ratio_cpu"] for r in later])),
        "fit_attempts_per_s_median": float(np.median([attempts / r["fit_seconds"] for r in later])),
        "legacy_attempts_per_s_median": float(
            np.median([attempts / r["legacy_seconds"] for r in later])
        ),
        "load_1min": [r["load_1min_before"] for r in rounds],
    }


def run_dktplus(
    data: dict[str, Any], base: Any, grid: list[tuple[float, float, float]], plain: dict | None
) -> dict[str, Any]:
    """Train one DKT+ model per grid point and keep the one chosen on validation learners.

    Choice: among the points whose served validation AUC is within ``AUC_DROP_BOUND`` of plain
    DKT's, the one with the fewest right answers lowering their skill plus wrong ones raising
    it (validation consistency); with none within the bound, the best validation AUC.
    """
    from dataclasses import replace

    tried = []
    for r, w1, w2 in grid:
        config = replace(base, reconstruction=r, waviness_l1=w1, waviness_l2=w2)
        outcome = run_dkt(data, config, f"dktplus r={r} w1={w1} w2={w2}")
        tried.append(((r, w1, w2), outcome))
    reference = plain["validation_auc"] if plain else -math.inf
    within = [t for t in tried if t[1]["validation_auc"] >= reference - AUC_DROP_BOUND]

    def inconsistency(item: tuple) -> float:
        figures = item[1]["validation_consistency"]
        return figures["right_down"] + figures["wrong_up"]

    chosen = (
        min(within, key=inconsistency)
        if within
        else max(tried, key=lambda t: t[1]["validation_auc"])
    )
    result = dict(chosen[1])
    result["chosen_weights"] = {"r": chosen[0][0], "w1": chosen[0][1], "w2": chosen[0][2]}
    result["grid"] = [
        {
            "r": weights[0],
            "w1": weights[1],
            "w2": weights[2],
            "validation_auc": outcome["validation_auc"],
            "validation_consistency": outcome["validation_consistency"],
            "test_served_auc": outcome["served"]["auc"],
        }
        for weights, outcome in tried
    ]
    return result


def run_pykt(
    data: dict[str, Any], python: str, epochs: int, emb_size: int, timeout: int
) -> dict[str, Any] | None:
    """Train pyKT's DKT in its own interpreter on the same windows; None when unavailable."""
    if not python or not Path(python).exists():
        return None
    windows = {name: windows_build(data[name]) for name in ("train", "validation", "test")}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "windows.npz"
        arrays: dict[str, np.ndarray] = {"n_skills": np.array(windows["train"].n_skills)}
        for name, value in windows.items():
            arrays[f"{name}_interactions"] = value.interactions
            arrays[f"{name}_target_skills"] = value.target_skills
            arrays[f"{name}_labels"] = value.labels
        np.savez(path, **arrays)
        command = [
            python,
            str(REPO_ROOT / "bench" / "kt_pykt_dkt.py"),
            str(path),
            "--epochs",
            str(epochs),
            "--emb-size",
            str(emb_size),
        ]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            print("    pyKT DKT timed out", flush=True)
            return None
    if completed.returncode != 0:
        print(f"    pyKT DKT failed: {completed.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"windowed_auc": outcome.get("auc"), **outcome}


def mean(values: list[float]) -> float:
    """Mean of the finite values, NaN when none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def parse_datasets(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``NAME=PATH`` pairs; the defaults are the two shared ASSISTments files."""
    given = args.dataset or [
        f"assist2009={args.data_dir / 'assist2009_akt' / 'interactions.csv.gz'}",
        f"assist2015={args.data_dir / 'assist2015_pykt' / 'interactions.csv.gz'}",
    ]
    pairs = []
    for item in given:
        name, separator, path = item.partition("=")
        if not separator or not name or not path:
            raise SystemExit(f"--dataset takes NAME=PATH, not {item!r}")
        pairs.append((name, path))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description="Knowledge-tracing quality benchmark")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "datasets")
    parser.add_argument(
        "--dataset",
        action="append",
        help="NAME=PATH of a long-format file (repeatable), or demo=simulated:N",
    )
    parser.add_argument("--quick", action="store_true", help="one fold, at most 5 epochs")
    parser.add_argument(
        "--throughput",
        action="store_true",
        help="throughput only: --epochs rounds of one fit epoch and one old-loop epoch, "
        "interleaved, on the first fold (no evaluation); writes kt_quality_throughput.json",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30, help="a ceiling: early stopping ends")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--models", default="gru,gru_problems,dktplus,legacy,lstm,bkt,pykt_dkt")
    parser.add_argument("--dktplus-grid", default=DEFAULT_DKTPLUS_GRID)
    parser.add_argument("--max-learners", type=int, default=0, help="seeded sample (0 = all)")
    for role in COLUMNS:
        parser.add_argument(f"--{role}-col", default=None)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--hidden-units", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--problem-l2", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pykt-python", default=DEFAULT_PYKT_PYTHON)
    parser.add_argument("--pykt-timeout", type=int, default=3600)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.output is None:
        name = "kt_quality_throughput.json" if args.throughput else "kt_quality.json"
        args.output = REPO_ROOT / "bench" / "results" / name
    if args.throughput:
        args.folds = 1
    if args.quick:
        args.folds, args.epochs = 1, min(args.epochs, 5)

    from adaptive.ml.training import TrainConfig

    models = args.models.split(",")
    grid = [
        tuple(float(x) for x in point.split(",")) for point in args.dktplus_grid.split(";") if point
    ]
    base = {
        "embedding_dim": args.embedding_dim,
        "hidden_units": args.hidden_units,
        "batch_size": args.batch_size,
        "dropout": args.dropout,
        "problem_l2": args.problem_l2,
        "epochs": args.epochs,
        "patience": args.patience,
        "seed": args.seed,
        "learning_rate": args.learning_rate,
    }
    configs = {
        "gru": TrainConfig(cell="gru", **base),
        "legacy": TrainConfig(cell="gru", **base),
        "gru_problems": TrainConfig(cell="gru", use_problems=True, **base),
        "lstm": TrainConfig(cell="lstm", **base),
    }
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    figures: dict[str, Any] = {}
    data_info: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for dataset, path in parse_datasets(args):
        if path.startswith("simulated:"):
            sequences, folds, counts = load_demo(int(path.split(":", 1)[1]), args.seed)
        else:
            sequences, folds, counts = load_long(Path(path), args)
        if args.max_learners and sequences.n_learners > args.max_learners:
            keep = np.random.default_rng(args.seed).choice(
                sequences.learner_ids, args.max_learners, replace=False
            )
            sequences = sequences_subset(sequences, keep)
        data_info[dataset] = {
            **counts,
            "learners": sequences.n_learners,
            "attempts": sequences.n_attempts,
            "longest": int(sequences.lengths.max()),
            "path": path,
        }
        print(f"{dataset}: {data_info[dataset]}", flush=True)
        results[dataset] = {}
        for fold in range(args.folds):
            split = fold_splits(sequences, folds, fold, args.seed)
            data: dict[str, Any] = {
                name: sequences_subset(sequences, ids) for name, ids in split.items()
            }
            print(
                f"  fold {fold}: learners train {len(split['train'])} / validation "
                f"{len(split['validation'])} / test {len(split['test'])}",
                flush=True,
            )
            if args.throughput:
                outcome = run_throughput(data, configs["gru"], args.epochs, dataset)
                results[dataset]["throughput"] = [outcome]
                figures[f"{dataset}.throughput_ratio_median_round_wall"] = outcome[
                    "median_ratio_wall"
                ]
                figures[f"{dataset}.throughput_ratio_median_round_cpu"] = outcome[
                    "median_ratio_cpu"
                ]
                o = outcome
                print(
                    f"{dataset}: training throughput fit (TBPTT + state carry) / old loop, "
                    f"median of rounds 2-{args.epochs}: wall {o['median_ratio_wall']:.2f}, "
                    f"CPU {o['median_ratio_cpu']:.2f} (attempts/s "
                    f"{o['fit_attempts_per_s_median']:.0f} vs "
                    f"{o['legacy_attempts_per_s_median']:.0f}; load "
                    f"{min(o['load_1min']):.1f}-{max(o['load_1min']):.1f})",
                    flush=True,
                )
                continue
            data["test_windows"] = windows_build(data["test"])
            for model in models:
                if model == "gru_problems" and sequences.problems is None:
                    continue
                if model == "bkt":
                    outcome = run_bkt(data)
                elif model == "pykt_dkt":
                    pykt = run_pykt(
                        data, args.pykt_python, args.epochs, args.hidden_units, args.pykt_timeout
                    )
                    if pykt is None:
                        continue
                    outcome = pykt
                elif model == "legacy":
                    outcome = run_legacy(data, configs["legacy"], f"{dataset}/legacy")
                elif model == "dktplus":
                    plain = results[dataset].get("gru", [None])[-1]
                    outcome = run_dktplus(data, configs["gru"], grid, plain)
                else:
                    outcome = run_dkt(data, configs[model], f"{dataset}/{model}")
                results[dataset].setdefault(model, []).append(outcome)
                print(f"    {model}: {json.dumps(outcome, default=float)[:600]}", flush=True)

    header = (
        f"{'dataset':<11} {'model':<22} {'windowed AUC':>12} {'served AUC':>10} "
        f"{'95% CI':>15} {'right↓':>7} {'wrong↑':>7} {'w1':>7} {'w2':>8} {'others':>7} "
        f"{'s/epoch':>8} {'int/s':>7}"
    )
    print()
    print(header)
    print("-" * len(header))
    for dataset, by_model in results.items():
        for model, runs in by_model.items():
            if model == "throughput":
                continue

            def pick(run: dict, *keys: str) -> float:
                value: Any = run
                for key in keys:
                    value = value.get(key) if isinstance(value, dict) else None
                return float(value) if isinstance(value, int | float) else float("nan")

            row = {
                "windowed_auc": mean([pick(r, "windowed_auc") for r in runs]),
                "served_auc": mean([pick(r, "served", "auc") for r in runs]),
                "ci_low": mean([pick(r, "served", "auc_ci_low") for r in runs]),
                "ci_high": mean([pick(r, "served", "auc_ci_high") for r in runs]),
                **{
                    name: mean([pick(r, "consistency", name) for r in runs])
                    for name in ("right_down", "wrong_up", "w1", "w2", "others_change")
                },
                "seconds_per_epoch": mean([pick(r, "seconds_per_epoch") for r in runs]),
                "interactions_per_s": mean([pick(r, "interactions_per_s") for r in runs]),
            }
            for name, value in row.items():
                figures[f"{dataset}.{model}.{name}"] = value if math.isfinite(value) else None
            ci = f"{_fmt(row['ci_low'], 3)}-{_fmt(row['ci_high'], 3)}"
            print(
                f"{dataset:<11} {model:<22} {_fmt(row['windowed_auc']):>12} "
                f"{_fmt(row['served_auc']):>10} {ci:>15} {_fmt(row['right_down'], 3):>7} "
                f"{_fmt(row['wrong_up'], 3):>7} {_fmt(row['w1'], 4):>7} {_fmt(row['w2'], 5):>8} "
                f"{_fmt(row['others_change'], 4):>7} {_fmt(row['seconds_per_epoch'], 1):>8} "
                f"{_fmt(row['interactions_per_s'], 0):>7}"
            )
        for name, value in ANCHORS.get(dataset, {}).items():
            print(f"{dataset:<11} {name + ' (published)':<22} {value:>12.4f}")
        new, old = (
            figures.get(f"{dataset}.gru.interactions_per_s"),
            figures.get(f"{dataset}.legacy.interactions_per_s"),
        )
        if new and old:
            figures[f"{dataset}.throughput_ratio_fit_vs_legacy"] = new / old
            # Also per epoch, median over epochs and folds: one epoch slowed by another job on
            # the machine moves the total-time ratio more than this one.
            epoch_rates = {
                model: [
                    run["interactions_per_s"] * run["seconds_per_epoch"] / seconds
                    for run in by_model[model]
                    for seconds in run.get("epoch_seconds", [])
                ]
                for model in ("gru", "legacy")
            }
            median_ratio = (
                float(np.median(epoch_rates["gru"]) / np.median(epoch_rates["legacy"]))
                if epoch_rates["gru"] and epoch_rates["legacy"]
                else float("nan")
            )
            figures[f"{dataset}.throughput_ratio_median_epoch"] = median_ratio
            print(
                f"{dataset}: training throughput new (fit, TBPTT) / legacy loop: {new / old:.2f} "
                f"(attempts/s over all epochs: {new:.0f} vs {old:.0f}; median epoch: "
                f"{_fmt(median_ratio, 2)})"
            )
        plain = figures.get(f"{dataset}.gru.served_auc")
        plus = figures.get(f"{dataset}.dktplus.served_auc")
        if plain is not None and plus is not None:
            drop = plain - plus
            figures[f"{dataset}.dktplus_auc_drop"] = drop
            verdict = "within" if drop <= AUC_DROP_BOUND else "OUTSIDE"
            print(
                f"{dataset}: DKT+ served AUC drop {drop:+.4f} ({verdict} the {AUC_DROP_BOUND} "
                f"bound); weights {results[dataset]['dktplus'][0]['chosen_weights']}"
            )
    figures["peak_rss_mib"] = peak_rss_mib()
    print(f"total wall time {time.perf_counter() - started:.0f} s")

    payload = {
        "figures": figures,
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "folds": args.folds,
        "epochs": args.epochs,
        "quick": args.quick,
        "config": {**base, "dktplus_grid": grid, "pykt_emb_size": args.hidden_units},
        "data": data_info,
        "results": results,
        "anchors": ANCHORS,
        "machine": {
            "cpus": os.cpu_count(),
            # Other jobs share the machine: speeds compare only within one run.
            "load_average_at_end": os.getloadavg(),
            "platform": platform_info.platform(),
            "python": platform_info.python_version(),
        },
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2, sort_keys=True, default=float) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
