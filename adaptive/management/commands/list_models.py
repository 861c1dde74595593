"""`manage.py list_models [--course SLUG|ID | --all] [--status S]`: the model registry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from adaptive.management.scope import course_from_argument
from adaptive.models import ModelVersion
from adaptive.selectors import model_version_list


class Command(BaseCommand):
    help = "List model versions with their status and held-out metrics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help="course slug or id; omitted: the global model")
        parser.add_argument("--all", action="store_true", help="every scope")
        parser.add_argument("--status", choices=ModelVersion.Status.values)

    def handle(self, *args: Any, **options: Any) -> None:
        course = course_from_argument(options["course"])
        versions = model_version_list(
            course=course, all_scopes=options["all"], status=options["status"]
        )
        self.stdout.write(
            f"{'id':>5} {'scope':<20} {'kind':<5} {'status':<10} {'AUC':>7} {'ACC':>7} "
            f"{'created':<20} reason"
        )
        for version in versions:
            metrics = version.metrics or {}
            scope = version.course.slug if version.course else "global"

            def number(name: str, values: dict = metrics) -> str:
                value = values.get(name)
                return f"{value:.4f}" if isinstance(value, int | float) else "-"

            self.stdout.write(
                f"{version.pk:>5} {scope[:20]:<20} {version.kind:<5} {version.status:<10} "
                f"{number('auc'):>7} {number('acc'):>7} "
                f"{version.created_at:%Y-%m-%d %H:%M:%S}  {version.rejection_reason}"
            )
