"""`manage.py rollback_model [--course SLUG|ID]`: reactivate the previously active version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.exceptions import ApplicationError
from adaptive.management.scope import course_from_argument, scope_label
from adaptive.services.model_versions import model_version_rollback


class Command(BaseCommand):
    help = "Roll a scope back to its previously active model version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help="course slug or id; omitted: the global model")

    def handle(self, *args: Any, **options: Any) -> None:
        course = course_from_argument(options["course"])
        try:
            version = model_version_rollback(course=course)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Rolled back: model version {version.pk} is active for the "
                f"{scope_label(course)} scope."
            )
        )
