"""`manage.py import_interactions PATH --format assistments --source NAME`: bulk-load a log."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learners.importers import (
    FORMATS,
    ImportFormatError,
    LogSummary,
    interactions_import,
    source_validate,
)


class Command(BaseCommand):
    # A data load needs no URL or template checks; skipping them keeps start-up short.
    requires_system_checks: list[str] = []
    help = (
        "Load a long interaction CSV (user, problem, skill, correct, order; gzip accepted) into "
        "users, skills, exercises and attempts, streaming it in bounded memory. Idempotent; a "
        "malformed row writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="CSV file, optionally gzip-compressed")
        parser.add_argument("--format", dest="file_format", choices=FORMATS, required=True)
        parser.add_argument(
            "--source",
            required=True,
            help="name of the dataset the learners come from (such as assist2009): learner 17 "
            "becomes the account <source>-17, and accounts of other sources are never reused",
        )
        parser.add_argument(
            "--course", default="assistments", help="slug of the course (created if missing)"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=50000,
            help="rows per write (a COPY chunk, an insert statement)",
        )

    def _progress(self, stage: str, done: int, total: int) -> None:
        # On a terminal one line is redrawn; in a log every step gets its own line.
        if self.stderr.isatty():
            self.stderr.write(f"\r  {stage}: {done:,}/{total:,}", ending="")
            if done >= total:
                self.stderr.write("")
        else:
            self.stderr.write(f"  {stage}: {done:,}/{total:,}")

    def handle(
        self,
        *args,
        path: Path,
        file_format: str,
        source: str,
        course: str,
        batch_size: int,
        **options,
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            source_validate(source)
        except ImportFormatError as error:
            raise CommandError(error.message) from error
        started = time.perf_counter()

        def on_read(summary: LogSummary, seconds: float) -> None:
            self.stderr.write(
                f"Read {summary.rows:,} rows ({summary.attempts:,} attempts after merging "
                f"multi-skill rows) in {seconds:.1f} s; writing..."
            )

        try:
            result = interactions_import(
                path=path,
                file_format=file_format,
                source=source,
                course_slug=course,
                batch_size=batch_size,
                progress=self._progress,
                on_read=on_read,
            )
        except ImportFormatError as error:
            raise CommandError(f"{path}: {error.message}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported into course {result.course.slug!r} in "
                f"{time.perf_counter() - started:.1f} s: {result.rows:,} rows, "
                f"{result.attempts_read:,} attempts read; created {result.users_created:,} users, "
                f"{result.skills_created:,} skills, {result.exercises_created:,} exercises, "
                f"{result.enrollments_created:,} enrolments, {result.attempts_created:,} attempts "
                f"(learners of source {result.source!r})."
            )
        )
        self.stdout.write(result.tagging_note())
