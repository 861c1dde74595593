"""`manage.py activate_model VERSION_ID [--force]`: make a version its scope's active model."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.exceptions import ApplicationError
from adaptive.management.scope import model_version_from_argument, scope_label
from adaptive.services.model_versions import model_version_activate


class Command(BaseCommand):
    help = "Activate a candidate or retired model version (the scope's active one is retired)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int)
        parser.add_argument(
            "--force", action="store_true", help="also activate a version the gate rejected"
        )

    def handle(self, *args: Any, version_id: int, force: bool, **options: Any) -> None:
        version = model_version_from_argument(version_id)
        try:
            version = model_version_activate(version=version, allow_rejected=force)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Model version {version.pk} is active for the {scope_label(version.course)} scope."
            )
        )
