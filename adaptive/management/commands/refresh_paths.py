"""`manage.py refresh_paths [--course SLUG|ID]`: recompute learners' mastery and paths now."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.management.scope import course_from_argument
from adaptive.services.class_summary import class_summary_compute
from adaptive.services.learning_paths import path_refresh
from courses.models import Course


class Command(BaseCommand):
    help = (
        "Recompute every enrolled learner's state, mastery and learning path with the model "
        "that serves their course (the active model, else cold-start BKT)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help="course slug or id; omitted: every course")
        parser.add_argument("--chunk-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        course = course_from_argument(options["course"])
        courses = [course] if course is not None else list(Course.objects.order_by("pk"))
        for each in courses:

            def progress(done: int, total: int, slug: str = each.slug) -> None:
                sys.stderr.write(f"\r{slug}: {done}/{total} learners")
                if done == total:
                    sys.stderr.write("\n")

            result = path_refresh(
                course_id=each.pk, chunk_size=options["chunk_size"], on_progress=progress
            )
            # What learners are shown may have changed: the class dashboard's figures too.
            class_summary_compute(course_id=each.pk)
            self.stdout.write(
                f"{each.slug}: {result.learners} learners, {result.rows} rows in "
                f"{result.seconds:.1f} s (model version {result.model_version_id or 'cold start'})"
            )
