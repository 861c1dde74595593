"""The class dashboard's figures per course: recomputed in the background, read in a few queries.

At 10,000 learners a page view cannot ask adaptive.display for every learner's shown mastery
(that is 10,000 display states and 10,000 calls per view), nor group a course's attempts per
learner to sort by correct rate. `class_summary_compute` does both once, in a task on the
`default` queue, and writes three small tables the page reads with ordered, limited queries:

- ClassSkillSummary: per skill, how many enrolled learners are shown each of the four statuses;
- ClassLearnerSummary: per enrolled learner, the list's columns (progress, answers, correct
  rate, skills mastered, last activity), so that sorting and paging is one ordered read;
- ClassSummary: when, from what (learners, newest attempt), and the exercise difficulty table.

The statuses come from each learner's stored display state through `adaptive.display.status_of`,
the function `shown_mastery` (every learner's own dashboard) calls for each skill's status: a
skill with a shown value has the status of that value, one without is not started. The raw
model estimate only adds an "estimate" beside a skill that is not started, so it is not read at
all: the figures equal the learners' own bars by construction, and a test checks it learner by
learner through `learner_shown`.

Recomputes are debounced: `class_summary_schedule` queues one per course at a time
(`queued_at`), `DEBOUNCE_SECONDS` after the first change, so a class answering for an hour costs
one recompute per half minute, not one per answer.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from adaptive.display import MASTERED, NOT_STARTED, STATUSES, DisplayState, status_of
from adaptive.display_store import display_config_default, display_graph_load, display_states_load
from adaptive.models import ClassLearnerSummary, ClassSkillSummary, ClassSummary
from learners.bulk import rows_insert
from learners.models import Attempt, Enrollment
from learners.selectors import (
    LearnerActivityStats,
    course_item_totals,
    exercise_attempt_stats_for_course,
    learner_activity_stats_for_course,
)

logger = logging.getLogger(__name__)

# The first change after a recompute waits this long, so that the answers of a busy class fold
# into one recompute instead of one each.
DEBOUNCE_SECONDS = 30
# A queued recompute that never started (its message lost) no longer blocks a new one after this.
QUEUED_LOST_SECONDS = 600
# Figures older than this are recomputed when a teacher opens the page, whatever the signals say
# (a path refresh may fold answers without a new attempt or enrolment).
MAX_AGE_SECONDS = 900
CHUNK = 2000
STARTED_STATUSES = tuple(status for status in STATUSES if status != NOT_STARTED)
LEARNER_FIELDS = (
    "course",
    "user",
    "username",
    "enrollment_status",
    "attempts",
    "correct_attempts",
    "correct_rate",
    "progress_percent",
    "skills_started",
    "skills_mastered",
    "last_activity_at",
)


def _learner_chunks(course_id: int) -> Iterator[list[tuple[int, str, str]]]:
    """Enrolled learners (dropped ones excluded) in keyset chunks: (user id, username, status)."""
    last = 0
    while True:
        rows = list(
            Enrollment.objects.filter(course_id=course_id, user_id__gt=last)
            .exclude(status=Enrollment.Status.DROPPED)
            .order_by("user_id")
            .values_list("user_id", "user__username", "status")[:CHUNK]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def newest_attempt_id(*, course_id: int) -> int | None:
    """The course's newest attempt (by time, through the course/created_at index)."""
    return (
        Attempt.objects.filter(course_id=course_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def active_learner_count(*, course_id: int) -> int:
    return (
        Enrollment.objects.filter(course_id=course_id)
        .exclude(status=Enrollment.Status.DROPPED)
        .count()
    )


@transaction.atomic
def class_summary_compute(*, course_id: int) -> ClassSummary | None:
    """Recompute a course's class dashboard figures (None when the course is gone)."""
    began = time.perf_counter()
    now = timezone.now()
    ClassSummary.objects.bulk_create([ClassSummary(course_id=course_id)], ignore_conflicts=True)
    # One recompute per course at a time; a second one waits and then recomputes what is newer.
    summary = ClassSummary.objects.select_for_update().filter(course_id=course_id).first()
    if summary is None:
        return None
    newest = newest_attempt_id(course_id=course_id)
    graph = display_graph_load(course_id=course_id)
    default = display_config_default()
    lessons_total, exercises_total = course_item_totals(course_id=course_id)
    activity = learner_activity_stats_for_course(course_id=course_id)
    skill_ids = set(graph.skill_ids)
    counts: Counter[tuple[int, str]] = Counter()
    learner_rows: list[tuple] = []
    for chunk in _learner_chunks(course_id):
        states = display_states_load(course_id=course_id, user_ids=[row[0] for row in chunk])
        for user_id, username, status in chunk:
            state = states.get(user_id, DisplayState())
            config = state.config(default)
            # The status of every skill as shown_mastery gives it (status_of of the shown value);
            # a skill without a shown value is not started. Raw estimates only add the
            # "estimate" beside a not-started skill, so none are read (module docstring).
            started = mastered = 0
            for skill_id, value in state.values.items():
                if skill_id not in skill_ids:
                    continue
                shown_status = status_of(value, config)
                counts[(skill_id, shown_status)] += 1
                started += 1
                mastered += shown_status == MASTERED
            stats = activity.get(user_id) or LearnerActivityStats(user_id)
            learner_rows.append(
                (
                    course_id,
                    user_id,
                    username,
                    status,
                    stats.attempts,
                    stats.correct_attempts,
                    stats.correct_rate,
                    stats.percent_complete(
                        lessons_total=lessons_total, exercises_total=exercises_total
                    ),
                    started,
                    mastered,
                    stats.last_activity_at,
                )
            )
    for skill_id in skill_ids:
        counts[(skill_id, NOT_STARTED)] = len(learner_rows) - sum(
            counts[(skill_id, shown_status)] for shown_status in STARTED_STATUSES
        )
    ClassSkillSummary.objects.filter(course_id=course_id).delete()
    ClassSkillSummary.objects.bulk_create(
        [
            ClassSkillSummary(
                course_id=course_id,
                skill_id=skill_id,
                **{status: counts[(skill_id, status)] for status in STATUSES},
            )
            for skill_id in graph.skill_ids
        ],
        batch_size=1000,
    )
    ClassLearnerSummary.objects.filter(course_id=course_id).delete()
    rows_insert(ClassLearnerSummary, LEARNER_FIELDS, learner_rows)
    summary.computed_at = now
    summary.learners = len(learner_rows)
    summary.last_attempt_id = newest
    summary.exercise_stats = [
        {
            "exercise_id": item.exercise_id,
            "title": item.title,
            "attempts": item.attempts,
            "correct": item.correct_attempts,
            "learners": item.learners,
        }
        for item in exercise_attempt_stats_for_course(course_id=course_id)
    ]
    summary.compute_seconds = round(time.perf_counter() - began, 3)
    summary.save(
        update_fields=[
            "computed_at",
            "learners",
            "last_attempt_id",
            "exercise_stats",
            "compute_seconds",
        ]
    )
    return summary


def _publish(course_id: int, countdown: int) -> None:
    from kombu.exceptions import OperationalError as BrokerError

    from adaptive.tasks import class_summary_refresh_task

    try:
        class_summary_refresh_task.apply_async(kwargs={"course_id": course_id}, countdown=countdown)
    except (BrokerError, OSError):
        # The next change or page view queues it again.
        logger.exception("could not queue the class summary of course %s", course_id)
        ClassSummary.objects.filter(course_id=course_id).update(queued_at=None)


def class_summary_schedule(*, course_id: int, countdown: int = DEBOUNCE_SECONDS) -> bool:
    """Queue a recompute of the course's figures unless one is queued already (two queries)."""
    now = timezone.now()
    ClassSummary.objects.bulk_create([ClassSummary(course_id=course_id)], ignore_conflicts=True)
    claimed = (
        ClassSummary.objects.filter(course_id=course_id)
        .filter(
            Q(queued_at__isnull=True)
            | Q(queued_at__lt=now - timedelta(seconds=QUEUED_LOST_SECONDS))
        )
        .update(queued_at=now)
    )
    if claimed:
        transaction.on_commit(partial(_publish, course_id, countdown))
    return bool(claimed)


def class_summary_started(*, course_id: int) -> None:
    """A queued recompute starts: changes from now on queue the next one."""
    ClassSummary.objects.filter(course_id=course_id).update(queued_at=None)


@dataclass(frozen=True)
class SummaryFreshness:
    summary: ClassSummary | None
    is_current: bool  # nothing changed since it was computed
    is_queued: bool  # a recompute is on its way

    @property
    def computed_at(self) -> datetime | None:
        return self.summary.computed_at if self.summary else None


def class_summary_ensure(*, course_id: int) -> SummaryFreshness:
    """The course's figures for a page view: recomputed here when the class is small, else
    queued when behind (never computed, a newer attempt, or older than MAX_AGE_SECONDS).

    Enrolments and completed lessons queue a recompute through the re-plan task they trigger
    (adaptive.tasks); a large class therefore skips counting its enrolments on every view.
    """
    summary = ClassSummary.objects.filter(course_id=course_id).first()
    newest = newest_attempt_id(course_id=course_id)
    inline = settings.PATHWISE_CLASS_SUMMARY_INLINE_LEARNERS
    is_current = bool(
        summary
        and summary.computed_at
        and summary.last_attempt_id == newest
        and timezone.now() - summary.computed_at < timedelta(seconds=MAX_AGE_SECONDS)
        and (
            summary.learners > inline
            or summary.learners == active_learner_count(course_id=course_id)
        )
    )
    if is_current:
        return SummaryFreshness(summary, True, False)
    known = summary is not None and summary.computed_at is not None
    learners = summary.learners if summary and known else active_learner_count(course_id=course_id)
    if learners <= inline:
        # A small class costs a few milliseconds: always current, no worker needed.
        return SummaryFreshness(class_summary_compute(course_id=course_id), True, False)
    countdown = DEBOUNCE_SECONDS if known and _recent(summary) else 0
    class_summary_schedule(course_id=course_id, countdown=countdown)
    summary = ClassSummary.objects.filter(course_id=course_id).first()
    return SummaryFreshness(summary, False, True)


def _recent(summary: ClassSummary | None) -> bool:
    return bool(
        summary
        and summary.computed_at
        and timezone.now() - summary.computed_at < timedelta(seconds=DEBOUNCE_SECONDS)
    )
