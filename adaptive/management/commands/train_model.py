"""`manage.py train_model [--kind gru|bkt] [--variant auto|skills|problems] [--course SLUG|ID]
[--epochs MAX] [--learning-rate LR] [--device auto]`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.exceptions import ApplicationError
from adaptive.management.scope import course_from_argument, scope_label
from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.model_training import DEFAULT_GRU_EPOCHS, VARIANTS, model_version_train

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Train a knowledge-tracing model on a course's attempts (or all attempts), register it "
        "and let the promotion gate decide whether it replaces the active model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=ModelVersion.Kind.values, default="gru")
        parser.add_argument("--course", help="course slug or id; omitted: the global model")
        parser.add_argument(
            "--variant",
            choices=VARIANTS,
            default="auto",
            help="GRU inputs: auto (train the skills-only and the problem-aware GRU and keep the "
            "best of them and BKT by validation AUC), skills or problems",
        )
        parser.add_argument(
            "--epochs",
            type=int,
            help=f"most GRU epochs (default {DEFAULT_GRU_EPOCHS}); early stopping on the "
            "validation AUC usually ends training first",
        )
        parser.add_argument("--learning-rate", type=float, help="Adam learning rate of the GRU")
        parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto")

    def handle(self, *args: Any, **options: Any) -> None:
        epochs = options["epochs"]
        if epochs is not None and epochs < 1:
            raise CommandError("--epochs must be at least 1.")
        learning_rate = options["learning_rate"]
        if learning_rate is not None and not 0 < learning_rate < 1:
            raise CommandError("--learning-rate must be between 0 and 1.")
        if options["kind"] == ModelVersion.Kind.BKT and (
            epochs is not None or learning_rate is not None or options["variant"] != "auto"
        ):
            raise CommandError(
                "--epochs, --learning-rate and --variant apply to --kind gru only "
                "(BKT runs EM to convergence)."
            )
        course = course_from_argument(options["course"])
        self.stdout.write(f"Training {options['kind']} for the {scope_label(course)} scope")
        try:
            run = model_version_train(
                course=course,
                kind=options["kind"],
                variant=options["variant"],
                epochs=epochs,
                learning_rate=learning_rate,
                device=options["device"],
                trigger=TrainingRun.Trigger.MANUAL,
                on_progress=self._progress,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except RuntimeError as error:
            # adaptive.ml.training.DeviceUnavailableError: --device gpu on a machine without one
            raise CommandError(str(error)) from error
        version = run.model_version
        if version is None:
            raise CommandError(f"Training run {run.pk} produced no model version: {run.error}")
        self.stdout.write("")
        metrics = version.metrics or {}

        def number(name: str) -> str:
            value = metrics.get(name)
            return f"{value:.4f}" if isinstance(value, int | float) else "undefined"

        selection = metrics.get("selection") or {}
        if selection:
            self.stdout.write(f"Chosen: {selection.get('chosen')} ({selection.get('reason')})")
        holdout = (version.counts or {}).get("holdout_learners", 0)
        self.stdout.write(
            f"Model version {version.pk}: held-out AUC {number('auc')} "
            f"(95% CI {number('auc_ci_low')}-{number('auc_ci_high')}, bootstrap over "
            f"{holdout} held-out learners; windowed AUC {number('windowed_auc')}), "
            f"accuracy {number('acc')}, RMSE {number('rmse')}"
        )
        if version.status == ModelVersion.Status.ACTIVE:
            self.stdout.write(self.style.SUCCESS(f"Promoted: version {version.pk} is active."))
        else:
            self.stdout.write(
                self.style.WARNING(f"Rejected: {version.rejection_reason or version.status}")
            )

    def _progress(self, stage: str, info: dict[str, Any]) -> None:
        if stage == "epoch":
            done = int(BAR_WIDTH * info["epoch"] / max(info["epochs"], 1))
            bar = "#" * done + "." * (BAR_WIDTH - done)
            val_auc = info.get("val_auc")
            line = (
                f"\r{info.get('candidate', '')} [{bar}] epoch {info['epoch']}/{info['epochs']} "
                f"loss {info['loss']:.4f} "
                f"val AUC {val_auc if val_auc is None else f'{val_auc:.4f}'} "
                f"{info['seconds']:.1f}s"
            )
            self.stdout.write(line, ending="")
            if hasattr(self.stdout, "flush"):
                self.stdout.flush()
        elif stage == "train":
            counts = info.get("counts", {})
            self.stdout.write(
                f"{counts.get('attempts', 0)} attempts, {counts.get('learners', 0)} learners "
                f"({counts.get('train_learners', 0)} train / "
                f"{counts.get('validation_learners', 0)} validation / "
                f"{counts.get('holdout_learners', 0)} held out)"
            )
        elif stage == "selected":
            self.stdout.write("")
            self.stdout.write(f"Selected {info.get('chosen')}: {info.get('reason')}")
        elif stage == "gate":
            self.stdout.write("")
            self.stdout.write("Scoring the candidate and the active model on held-out learners")
        sys.stdout.flush()
