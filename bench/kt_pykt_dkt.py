"""Train pyKT's DKT (pykt.models.dkt.DKT, PyTorch) on windows exported by bench/kt_quality.py.

Runs in a separate virtual environment that has ``pykt-toolkit`` and ``torch`` (never in the
project's own), reads one ``.npz`` of train / validation / test windows and prints one JSON line.
The model, its embedding, LSTM, dropout and output layer are pyKT's own modules; only two things
are adapted so that both sides see the same data: a multi-skill attempt (merged ASSIST2009 rows)
sums the interaction embeddings of its skills, and its prediction is the mean of its skills'
probabilities. Batches are padded to the full 200 steps, as pyKT's data loader does.

Usage: python bench/kt_pykt_dkt.py INPUT.npz --epochs 3 [--emb-size 128] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from pykt.models.dkt import DKT
from sklearn.metrics import roc_auc_score


def _split(data: np.lib.npyio.NpzFile, name: str) -> dict[str, torch.Tensor]:
    interactions = torch.as_tensor(data[f"{name}_interactions"].astype(np.int64))
    return {
        "interactions": interactions,
        "target_skills": torch.as_tensor(data[f"{name}_target_skills"].astype(np.int64)),
        "labels": torch.as_tensor(data[f"{name}_labels"].astype(np.float32)),
    }


def _forward(model: DKT, interactions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    valid = (interactions > 0).float().unsqueeze(-1)
    # Our codes are skill + 1 + n * correct (0 = padding); pyKT's are skill + n * correct.
    n = model.num_c
    skill = torch.remainder(interactions - 1, n).clamp(min=0)
    correct = torch.div(interactions - 1, n, rounding_mode="floor").clamp(min=0)
    embedded = (model.interaction_emb(skill + n * correct) * valid).sum(dim=2)
    hidden, _ = model.lstm_layer(embedded)
    probabilities = torch.sigmoid(model.out_layer(model.dropout_layer(hidden)))
    padded = torch.nn.functional.pad(probabilities, (1, 0))
    gathered = torch.gather(padded, 2, targets)
    target_valid = (targets > 0).float()
    return (gathered * target_valid).sum(-1) / target_valid.sum(-1).clamp(min=1.0)


def _predict(model: DKT, split: dict[str, torch.Tensor], batch_size: int) -> np.ndarray:
    model.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(split["labels"]), batch_size):
            stop = start + batch_size
            outputs.append(
                _forward(
                    model, split["interactions"][start:stop], split["target_skills"][start:stop]
                )
            )
    return torch.cat(outputs).numpy()


def _peak_rss_mib() -> float:
    """This process's peak resident memory; VmHWM, since ru_maxrss survives exec on Linux."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _scores(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    mask = labels >= 0
    y, p = labels[mask], predictions[mask]
    return {
        "auc": float(roc_auc_score(y, p)),
        "acc": float(np.mean((p >= 0.5) == (y == 1))),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--emb-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    data = np.load(args.input, allow_pickle=False)
    n_skills = int(data["n_skills"])
    train, validation, test = (_split(data, name) for name in ("train", "validation", "test"))
    model = DKT(n_skills, args.emb_size, dropout=args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    generator = torch.Generator().manual_seed(args.seed)
    interactions = float((train["interactions"][..., 0] > 0).sum())
    best_auc, best_state, stale, seconds = -1.0, None, 0, []
    for _epoch in range(args.epochs):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(len(train["labels"]), generator=generator)
        for start in range(0, len(order), args.batch_size):
            rows = order[start : start + args.batch_size]
            labels = train["labels"][rows]
            mask = labels >= 0
            predictions = _forward(model, train["interactions"][rows], train["target_skills"][rows])
            loss = torch.nn.functional.binary_cross_entropy(
                predictions[mask].clamp(1e-7, 1 - 1e-7), labels[mask]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - started)
        validation_auc = _scores(validation["labels"].numpy(), _predict(model, validation, 256))[
            "auc"
        ]
        if validation_auc > best_auc:
            best_auc, stale = validation_auc, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= args.patience:
                break
    model.load_state_dict(best_state)
    result = _scores(test["labels"].numpy(), _predict(model, test, 256))
    result.update(
        {
            "seconds_per_epoch": float(np.mean(seconds)),
            "interactions_per_s": interactions * len(seconds) / float(np.sum(seconds)),
            "epochs_run": len(seconds),
            "peak_rss_mib": _peak_rss_mib(),
            "torch": torch.__version__,
            "emb_size": args.emb_size,
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
