"""`manage.py seed_demo`: the demo courses, demo logins and simulated students (idempotent)."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.exceptions import ApplicationError
from learners.demo.seeding import DemoResult, demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo courses 'Foundations of Algebra' and 'Introduction to Statistics' with "
        "locally generated media, a teacher, demo students and simulated learner activity. "
        "Running it again changes nothing (a missing demo course is added). "
        "The passwords are fixed demo values: never run this on a public server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--students", type=int, default=120, help="simulated students (default 120)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")

    def handle(self, *args, students: int, seed: int, **options) -> None:
        if not 0 <= students <= 5000:
            raise CommandError("--students must be between 0 and 5000.")
        started = time.perf_counter()
        try:
            result = demo_seed(students=students, seed=seed, say=self.stdout.write)
        except (ApplicationError, ValidationError) as error:
            raise CommandError(f"The demo could not be created: {error}") from error
        titles = ", ".join(repr(course.title) for course in result.courses)
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo courses ready ({titles}) in "
                    f"{time.perf_counter() - started:.1f} s: {result.simulated_students} "
                    f"simulated students, {result.attempts:,} attempts, "
                    f"{result.lesson_events:,} lesson events."
                )
            )
        else:
            self.stdout.write(f"The demo courses {titles} already exist; nothing changed.")
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        self._print_logins(result)

    def _print_logins(self, result: DemoResult) -> None:
        self.stdout.write("Demo logins (demo-only passwords):")
        for account in result.accounts:
            password = account.password if account.is_new else "(existing account, unchanged)"
            self.stdout.write(
                f"  {account.username:<8} {password:<22} {account.role:<8} {account.note}"
            )
        slugs = ", ".join(course.slug for course in result.courses)
        self.stdout.write(f"Course slugs: {slugs}; Django admin at /admin/.")
