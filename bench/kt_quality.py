"""Knowledge-tracing quality: learner-level cross-validation of our GRU DKT, LSTM DKT and BKT.

* ASSIST2009 (``assist2009_akt``): the consecutive rows that repeat a problem and its answer (one
  row per skill of a multi-skill problem) are merged into ONE attempt with several skills, so no
  attempt is predicted from a copy of itself. Learner-level 5-fold CV on AKT's folds
  (``akt_test_fold``): fold k is the test set; 10% of the other learners (seeded) validate.
* ASSIST2015 (``assist2015_pykt``): pyKT's own protocol: fold k (0-4) validates, the other four
  train, and the fixed 20% test learners (fold -1) are scored.

Every model sees the same 200-step windows (sequences shorter than 3 dropped) and is scored on
the same targets. pyKT's DKT (``pykt-toolkit``, PyTorch) is trained on the same windows in a
separate interpreter (``--pykt-python``, a virtual environment with pykt-toolkit) when present;
otherwise its figures are null. Prints a table and writes ``bench/results/kt_quality.json``.

    python bench/kt_quality.py --quick          # one fold, 5 epochs
    python bench/kt_quality.py --folds 5 --epochs 20
"""

from __future__ import annotations

import argparse
import json
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
from adaptive.ml.bkt import bkt_fit, bkt_predict_windows  # noqa: E402
from adaptive.ml.sequences import (  # noqa: E402
    SequenceSet,
    Windows,
    learners_split,
    sequences_build,
    sequences_subset,
    windows_build,
)

ANCHORS = {
    "assist2009": {"pyKT DKT": 0.7541, "pyKT AKT": 0.7853, "pyKT IEKT (best)": 0.7861},
    "assist2015": {"pyKT DKT": 0.7271, "pyKT AKT": 0.7281},
}
TARGETS = {"assist2009": 0.755, "assist2015": 0.728}
DEFAULT_PYKT_PYTHON = os.environ.get(
    "PYKT_PYTHON", str(Path(tempfile.gettempdir()) / "pyktvenv" / "bin" / "python")
)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (a running maximum, not per model)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_assist2009(data_dir: Path) -> tuple[SequenceSet, dict[Any, int], dict[str, int]]:
    """Merged ASSIST2009 sequences, each learner's AKT test fold, and merge counts."""
    frame = pd.read_csv(data_dir / "assist2009_akt" / "interactions.csv.gz")
    frame = frame.sort_values(["user_id", "seq_idx"], kind="stable").reset_index(drop=True)
    users = frame["user_id"].to_numpy()
    problems = frame["problem_id"].to_numpy()
    answers = frame["correct"].to_numpy()
    skills = frame["skill_idx"].to_numpy() - 1  # AKT skills are 1..110
    merged_learners, merged_times, merged_skills, merged_correct, merged_problems = (
        [],
        [],
        [],
        [],
        [],
    )
    for row in range(len(frame)):
        continues = (
            row > 0
            and users[row] == users[row - 1]
            and problems[row] == problems[row - 1]
            and answers[row] == answers[row - 1]
            and skills[row] not in merged_skills[-1]
        )
        if continues:
            merged_skills[-1].append(int(skills[row]))
            continue
        merged_learners.append(users[row])
        merged_times.append(row)
        merged_skills.append([int(skills[row])])
        merged_correct.append(int(answers[row]))
        merged_problems.append(problems[row])
    problem_ids, problem_index = np.unique(np.asarray(merged_problems), return_inverse=True)
    sequences = sequences_build(
        learners=np.asarray(merged_learners),
        times=np.asarray(merged_times),
        skills=merged_skills,
        correct=np.asarray(merged_correct),
        n_skills=int(skills.max()) + 1,
        problems=problem_index + 1,
        n_problems=len(problem_ids),
    )
    folds = frame.groupby("user_id")["akt_test_fold"].first().to_dict()
    counts = {"rows": len(frame), "attempts_after_merge": len(merged_correct)}
    return sequences, folds, counts


def load_assist2015(data_dir: Path) -> tuple[SequenceSet, dict[Any, int], dict[str, int]]:
    """ASSIST2015 sequences (pyKT concepts) and each learner's pyKT fold (-1 = test)."""
    frame = pd.read_csv(data_dir / "assist2015_pykt" / "interactions.csv.gz")
    sequences = sequences_build(
        learners=frame["pykt_uid"].to_numpy(),
        times=frame["seq_idx"].to_numpy(),
        skills=frame["pykt_concept"].to_numpy(),
        correct=frame["correct"].to_numpy(),
        n_skills=int(frame["pykt_concept"].max()) + 1,
    )
    folds = frame.groupby("pykt_uid")["pykt_fold"].first().to_dict()
    return sequences, folds, {"rows": len(frame), "attempts_after_merge": len(frame)}


def fold_splits(
    dataset: str, sequences: SequenceSet, folds: dict[Any, int], fold: int, seed: int
) -> dict[str, np.ndarray]:
    """Learner ids of train / validation / test for one fold, never sharing a learner."""
    ids = sequences.learner_ids
    fold_of = np.array([folds[learner] for learner in ids])
    if dataset == "assist2009":
        test = ids[fold_of == fold + 1]
        pool = ids[fold_of != fold + 1]
        train, validation = learners_split(pool, fractions=(0.9, 0.1), seed=seed + fold)
    else:
        test = ids[fold_of == -1]
        validation = ids[fold_of == fold]
        train = ids[(fold_of != fold) & (fold_of != -1)]
    if set(train) & set(test) or set(validation) & set(test):
        raise RuntimeError(f"{dataset} fold {fold}: a learner is in two splits")
    return {"train": train, "validation": validation, "test": test}


def scores(windows: Windows, predictions: np.ndarray) -> dict[str, float]:
    """AUC, accuracy, RMSE and BCE on the windows' targets."""
    summary = metrics.metrics_summary(*metrics.flatten_targets(windows.labels, predictions))
    return {name: summary[name] for name in ("auc", "acc", "rmse", "bce", "n")}


def run_bkt(windows: dict[str, Windows]) -> dict[str, float]:
    """Fit BKT by EM on the training windows and score the test windows."""
    started = time.perf_counter()
    params = bkt_fit(windows["train"])
    seconds = time.perf_counter() - started
    result = scores(windows["test"], bkt_predict_windows(params, windows["test"]))
    result.update({"fit_seconds": seconds, "peak_rss_mib": peak_rss_mib()})
    return result


def run_dkt(windows: dict[str, Windows], config: Any, label: str) -> dict[str, float]:
    """Train one DKT variant with early stopping on validation AUC and score the test windows."""
    from adaptive.ml.inference import windows_predict
    from adaptive.ml.training import dkt_train

    def progress(epoch: int, logs: dict[str, float]) -> None:
        print(
            f"    {label} epoch {epoch}: loss {logs['loss']:.4f} val_auc {logs['val_auc']:.4f} "
            f"{logs['seconds']:.1f}s {logs['interactions_per_second']:.0f} int/s",
            flush=True,
        )

    result_train = dkt_train(
        windows["train"], windows["validation"], config=config, on_epoch=progress
    )
    result = scores(windows["test"], windows_predict(result_train.model, windows["test"]))
    result.update(
        {
            "seconds_per_epoch": result_train.seconds_per_epoch,
            "interactions_per_s": result_train.interactions_per_second,
            "epochs_run": len(result_train.history),
            "best_epoch": result_train.best_epoch,
            "validation_auc": result_train.best_validation_auc,
            "peak_rss_mib": peak_rss_mib(),
        }
    )
    return result


def run_pykt(
    windows: dict[str, Windows], python: str, epochs: int, emb_size: int, timeout: int
) -> dict[str, float] | None:
    """Train pyKT's DKT in its own interpreter on the same windows; None when unavailable."""
    if not python or not Path(python).exists():
        return None
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "windows.npz"
        arrays: dict[str, np.ndarray] = {"n_skills": np.array(windows["train"].n_skills)}
        for name in ("train", "validation", "test"):
            arrays[f"{name}_interactions"] = windows[name].interactions
            arrays[f"{name}_target_skills"] = windows[name].target_skills
            arrays[f"{name}_labels"] = windows[name].labels
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
    return json.loads(completed.stdout.strip().splitlines()[-1])


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and population standard deviation, NaN-safe for empty lists."""
    if not values:
        return float("nan"), float("nan")
    return float(np.mean(values)), float(np.std(values))


def format_pm(values: list[float], digits: int = 4) -> str:
    """``mean ± std`` with fixed digits, or ``-``."""
    if not values:
        return "-"
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Knowledge-tracing quality benchmark")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--quick", action="store_true", help="one fold, 5 epochs")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--datasets", default="assist2009,assist2015")
    parser.add_argument("--models", default="gru,gru_problems,lstm,bkt,pykt_dkt")
    # Defaults chosen on ASSIST2009 fold-0 validation AUC (see the report of issue 3).
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--hidden-units", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="default per dataset, chosen on fold-0 validation AUC: 3e-3 (ASSIST2009), "
        "1e-3 (ASSIST2015)",
    )
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--problem-l2", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pykt-python", default=DEFAULT_PYKT_PYTHON)
    parser.add_argument("--pykt-timeout", type=int, default=3600)
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "bench" / "results" / "kt_quality.json"
    )
    args = parser.parse_args()
    if args.quick:
        args.folds, args.epochs = 1, min(args.epochs, 5)

    from adaptive.ml.training import TrainConfig

    models = args.models.split(",")
    datasets = args.datasets.split(",")
    base = {
        "embedding_dim": args.embedding_dim,
        "hidden_units": args.hidden_units,
        "batch_size": args.batch_size,
        "dropout": args.dropout,
        "problem_l2": args.problem_l2,
        "epochs": args.epochs,
        "patience": args.patience,
        "seed": args.seed,
    }
    default_learning_rates = {"assist2009": 3e-3, "assist2015": 1e-3}
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    data_info: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    for dataset in datasets:
        loader = load_assist2009 if dataset == "assist2009" else load_assist2015
        sequences, folds, counts = loader(args.data_dir)
        data_info[dataset] = {**counts, **sequences.report.as_dict()}
        print(f"{dataset}: {data_info[dataset]}", flush=True)
        results[dataset] = {}
        rate = args.learning_rate or default_learning_rates[dataset]
        configs = {
            "gru": TrainConfig(cell="gru", learning_rate=rate, **base),
            "gru_problems": TrainConfig(cell="gru", use_problems=True, learning_rate=rate, **base),
            "lstm": TrainConfig(cell="lstm", learning_rate=rate, **base),
        }
        for fold in range(args.folds):
            split = fold_splits(dataset, sequences, folds, fold, args.seed)
            windows = {
                name: windows_build(sequences_subset(sequences, ids)) for name, ids in split.items()
            }
            print(
                f"  fold {fold}: learners train {len(split['train'])} / validation "
                f"{len(split['validation'])} / test {len(split['test'])}; test targets "
                f"{windows['test'].n_targets}",
                flush=True,
            )
            for model in models:
                if model == "gru_problems" and sequences.problems is None:
                    continue
                if model == "bkt":
                    outcome = run_bkt(windows)
                elif model == "pykt_dkt":
                    outcome = run_pykt(
                        windows, args.pykt_python, args.epochs, args.hidden_units, args.pykt_timeout
                    )
                    if outcome is None:
                        continue
                else:
                    outcome = run_dkt(windows, configs[model], f"{dataset}/{model}")
                results[dataset].setdefault(model, []).append(outcome)
                print(f"    {model}: {json.dumps(outcome)}", flush=True)

    figures: dict[str, float | None] = {}
    for dataset, by_model in results.items():
        for model, runs in by_model.items():
            for name in ("auc", "acc", "rmse"):
                figures[f"{dataset}.{model}.{name}"] = mean_std([r[name] for r in runs])[0]
    for dataset in ("assist2009", "assist2015"):
        for model in ("gru", "bkt"):
            figures.setdefault(f"{dataset}.{model}.auc", None)
    ours = [r["interactions_per_s"] for by in results.values() for r in by.get("gru", [])]
    theirs = [r["interactions_per_s"] for by in results.values() for r in by.get("pykt_dkt", [])]
    ours_lstm = [r["interactions_per_s"] for by in results.values() for r in by.get("lstm", [])]
    figures["train.interactions_per_s"] = mean_std(ours)[0] if ours else None
    figures["train.seconds_per_epoch"] = (
        mean_std([r["seconds_per_epoch"] for by in results.values() for r in by.get("gru", [])])[0]
        if ours
        else None
    )
    figures["vs_pykt.throughput_ratio"] = (
        mean_std(ours)[0] / mean_std(theirs)[0] if ours and theirs else None
    )
    figures["vs_pykt.lstm_throughput_ratio"] = (
        mean_std(ours_lstm)[0] / mean_std(theirs)[0] if ours_lstm and theirs else None
    )
    figures["peak_rss_mib"] = peak_rss_mib()

    header = (
        f"{'dataset':<11} {'model':<24} {'AUC':>17} {'ACC':>17} {'RMSE':>17} "
        f"{'s/epoch':>8} {'int/s':>8} {'peak MiB':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for dataset, by_model in results.items():
        for model, runs in by_model.items():
            speed = [r.get("interactions_per_s") for r in runs if r.get("interactions_per_s")]
            epoch = [r.get("seconds_per_epoch") for r in runs if r.get("seconds_per_epoch")]
            print(
                f"{dataset:<11} {model:<24} {format_pm([r['auc'] for r in runs]):>17} "
                f"{format_pm([r['acc'] for r in runs]):>17} "
                f"{format_pm([r['rmse'] for r in runs]):>17} "
                f"{(f'{np.mean(epoch):.1f}' if epoch else '-'):>8} "
                f"{(f'{np.mean(speed):.0f}' if speed else '-'):>8} "
                f"{max(r['peak_rss_mib'] for r in runs):>9.0f}"
            )
        for name, value in ANCHORS.get(dataset, {}).items():
            print(f"{dataset:<11} {name + ' (published)':<24} {value:>17.4f}")
    ratio = figures["vs_pykt.throughput_ratio"]
    print()
    print(
        "throughput ratio ours GRU / pyKT DKT: "
        + (f"{ratio:.2f}" if ratio is not None else "n/a (pyKT DKT not run or not installed)")
    )
    print(f"total wall time {time.perf_counter() - started:.0f} s")

    payload = {
        "figures": figures,
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "folds": args.folds,
        "epochs": args.epochs,
        "quick": args.quick,
        "config": {
            **base,
            "learning_rate": {d: args.learning_rate or default_learning_rates[d] for d in datasets},
            "pykt_emb_size": args.hidden_units,
        },
        "data": data_info,
        "results": results,
        "anchors": ANCHORS,
        "targets": TARGETS,
        "gpu": None,
        "machine": {
            "cpus": os.cpu_count(),
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
