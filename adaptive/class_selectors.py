"""Reads of the class dashboard: the skill overview, the learner list, exercise difficulty.

Each is a bounded read of the tables adaptive.services.class_summary keeps, so that a page costs
the same few queries at 20 or at 10,000 learners.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from adaptive.display import ALMOST, LEARNING, MASTERED, NOT_STARTED
from adaptive.models import ClassLearnerSummary, ClassSkillSummary

# Struggling: at least this many answers and fewer than half of them right.
STRUGGLING_MIN_ATTEMPTS = 3
STRUGGLING_MAX_CORRECT_RATE = 0.5


@dataclass(frozen=True)
class SkillDistribution:
    """How many enrolled learners are shown each status on one skill."""

    skill_id: int
    name: str
    not_started: int
    learning: int
    almost: int
    mastered: int

    @property
    def learners(self) -> int:
        return self.not_started + self.learning + self.almost + self.mastered

    @property
    def started(self) -> int:
        return self.learning + self.almost + self.mastered

    @property
    def mastered_share(self) -> float | None:
        """Share mastered among the learners who started the skill (None: nobody started)."""
        return self.mastered / self.started if self.started else None

    @property
    def segments(self) -> list[tuple[str, int, float]]:
        """(status, learners, percent of all learners) of each non-empty part of the bar."""
        counts = (
            (NOT_STARTED, self.not_started),
            (LEARNING, self.learning),
            (ALMOST, self.almost),
            (MASTERED, self.mastered),
        )
        return [
            (status, count, round(100.0 * count / self.learners, 2))
            for status, count in counts
            if count
        ]


def weakest_first_key(item: SkillDistribution) -> tuple:
    """Weakest first: the lowest share mastered among learners who started the skill; then the
    larger share still learning; skills nobody started last (nothing is known of them); by name."""
    if item.mastered_share is None:
        return (1, 0.0, 0.0, item.name, item.skill_id)
    learning_share = item.learning / item.started
    return (0, item.mastered_share, -learning_share, item.name, item.skill_id)


def skill_distribution_for_course(*, course_id: int) -> list[SkillDistribution]:
    """Every skill of the course with its status counts, weakest first (one query)."""
    rows = [
        SkillDistribution(
            skill_id=row.skill_id,
            name=row.skill.name,
            not_started=row.not_started,
            learning=row.learning,
            almost=row.almost,
            mastered=row.mastered,
        )
        for row in ClassSkillSummary.objects.filter(course_id=course_id).select_related("skill")
    ]
    return sorted(rows, key=weakest_first_key)


LEARNER_SORTS = {
    "name": ("username", "user_id"),
    "progress": (F("progress_percent").desc(), "username", "user_id"),
    "progress_low": ("progress_percent", "username", "user_id"),
    "correct_low": (F("correct_rate").asc(nulls_last=True), "username", "user_id"),
    "correct": (F("correct_rate").desc(nulls_last=True), "username", "user_id"),
    "mastered": (F("skills_mastered").desc(), "username", "user_id"),
    "active": (F("last_activity_at").desc(nulls_last=True), "username", "user_id"),
    "inactive": (F("last_activity_at").asc(nulls_first=True), "username", "user_id"),
}
LEARNER_FILTERS = ("all", "struggling", "not_started", "mastered_some")


def learner_summary_list(
    *, course_id: int, search: str = "", show: str = "all", sort: str = "name"
) -> QuerySet[ClassLearnerSummary]:
    """The course's learner rows, searched by username, name or e-mail, filtered and sorted."""
    rows = ClassLearnerSummary.objects.filter(course_id=course_id).select_related("user")
    search = search.strip()
    if search:
        rows = rows.filter(
            Q(username__icontains=search)
            | Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
            | Q(user__email__icontains=search)
        )
    if show == "struggling":
        # correct / attempts < 0.5, in integers: exact, and no division by zero
        rows = rows.filter(
            attempts__gte=STRUGGLING_MIN_ATTEMPTS,
            correct_attempts__lt=F("attempts") * STRUGGLING_MAX_CORRECT_RATE,
        )
    elif show == "not_started":
        rows = rows.filter(attempts=0)
    elif show == "mastered_some":
        rows = rows.filter(skills_mastered__gt=0)
    return rows.order_by(*LEARNER_SORTS.get(sort, LEARNER_SORTS["name"]))


@dataclass(frozen=True)
class ExerciseDifficulty:
    exercise_id: int
    title: str
    attempts: int
    correct_attempts: int
    learners: int

    @property
    def correct_percent(self) -> int | None:
        if not self.attempts:
            return None
        return round(100 * self.correct_attempts / self.attempts)


def exercise_difficulty_rows(stats: list[dict]) -> list[ExerciseDifficulty]:
    """ClassSummary.exercise_stats (hardest first) as rows."""
    return [
        ExerciseDifficulty(
            exercise_id=int(item["exercise_id"]),
            title=str(item["title"]),
            attempts=int(item["attempts"]),
            correct_attempts=int(item["correct"]),
            learners=int(item["learners"]),
        )
        for item in stats
    ]
