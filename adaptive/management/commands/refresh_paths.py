"""`manage.py refresh_paths [--course SLUG|ID] [--fan-out]`: recompute learners' paths now."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaptive.management.scope import course_from_argument
from adaptive.services.class_summary import class_summary_compute
from adaptive.services.learning_paths import path_refresh
from adaptive.services.path_refresh_fanout import path_refreshes_start
from courses.models import Course


class Command(BaseCommand):
    help = (
        "Recompute every enrolled learner's state, mastery and learning path with the model "
        "that serves their course (the active model, else cold-start BKT). Runs here, chunk by "
        "chunk, unless --fan-out sends the chunks to the default workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help="course slug or id; omitted: every course")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help="learners per chunk (default: 1000 here; with --fan-out, sized to the skills)",
        )
        # Inline stays the default: it needs no running worker and prints the timing, which is
        # what an operator at a shell after a restore or an import wants.
        parser.add_argument(
            "--fan-out",
            action="store_true",
            help="send one task per chunk to the default workers and return; progress is in "
            "the admin (Path refreshes)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = options["chunk_size"]
        if chunk_size is not None and chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        course = course_from_argument(options["course"])
        courses = [course] if course is not None else list(Course.objects.order_by("pk"))
        if options["fan_out"]:
            refreshes = path_refreshes_start(
                course_ids=[each.pk for each in courses], chunk_size=chunk_size
            )
            for refresh in refreshes:
                self.stdout.write(
                    f"course {refresh.course_id}: path refresh {refresh.pk} sent as "
                    f"{refresh.chunks_total} chunks of {refresh.chunk_size} learners "
                    f"({refresh.learners_total} learners, model version "
                    f"{refresh.model_version_id or 'cold start'})"
                )
            return
        for each in courses:

            def progress(done: int, total: int, slug: str = each.slug) -> None:
                sys.stderr.write(f"\r{slug}: {done}/{total} learners")
                if done == total:
                    sys.stderr.write("\n")

            result = path_refresh(
                course_id=each.pk, chunk_size=chunk_size or 1000, on_progress=progress
            )
            # What learners are shown may have changed: the class dashboard's figures too.
            class_summary_compute(course_id=each.pk)
            self.stdout.write(
                f"{each.slug}: {result.learners} learners, {result.rows} rows in "
                f"{result.seconds:.1f} s (model version {result.model_version_id or 'cold start'})"
            )
