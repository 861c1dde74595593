"""`manage.py queue_retrain [--course SLUG|ID] [--kind K] [--if-none]`: retrain on a worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.management.scope import course_from_argument, scope_label
from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.retraining import training_run_open_exists, training_run_request
from courses.exceptions import ApplicationError


class Command(BaseCommand):
    help = (
        "Queue a retrain of a scope on the ml worker (train, gate, refresh paths); "
        "`train_model` does the same in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help="course slug or id; omitted: the global model")
        parser.add_argument("--kind", choices=ModelVersion.Kind.values, default="gru")
        parser.add_argument("--epochs", type=int)
        parser.add_argument(
            "--if-none",
            action="store_true",
            help="only when the scope has no model version and no open run (first start; "
            "a first run that died is retried)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        course = course_from_argument(options["course"])
        if options["epochs"] is not None and options["epochs"] < 1:
            raise CommandError("--epochs must be at least 1.")
        scope = ModelVersion.objects.filter(course=course)
        if options["if_none"] and (
            scope.exists() or training_run_open_exists(course_id=course.pk if course else None)
        ):
            self.stdout.write(f"{scope_label(course)} already has a model; nothing queued.")
            return
        try:
            run = training_run_request(
                course=course,
                kind=options["kind"],
                epochs=options["epochs"],
                trigger=TrainingRun.Trigger.MANUAL,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Queued training run {run.pk} ({options['kind']}) for {scope_label(course)}."
        )
