"""`manage.py evaluate_model VERSION_ID`: score a model version on its scope's held-out learners."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.exceptions import ApplicationError
from adaptive.management.scope import model_version_from_argument, scope_label
from adaptive.services.model_versions import model_version_evaluate


class Command(BaseCommand):
    help = "Score a model version on the held-out learners of its scope (today's attempts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int)

    def handle(self, *args: Any, version_id: int, **options: Any) -> None:
        version = model_version_from_argument(version_id)
        try:
            summary = model_version_evaluate(version=version)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Model version {version.pk} ({version.kind}, {scope_label(version.course)}, "
            f"{version.status}) on {int(summary['n'])} held-out attempts:"
        )
        for name in ("auc", "acc", "precision", "recall", "rmse", "bce", "ece"):
            self.stdout.write(f"  {name:<9} {summary[name]:.4f}")
