"""Knowledge state and paths: the model registry, learner state and mastery, learning paths.

Every stored knowledge state and path records the model version that produced it (null for the
cold-start BKT with default parameters, used while a course has no trained model).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ModelVersion(models.Model):
    """One trained knowledge-tracing model, its metrics on held-out learners and its artifact."""

    class Kind(models.TextChoices):
        GRU = "gru", _("GRU deep knowledge tracing")
        BKT = "bkt", _("Bayesian knowledge tracing")

    class Status(models.TextChoices):
        TRAINING = "training", _("Training")
        CANDIDATE = "candidate", _("Candidate")
        ACTIVE = "active", _("Active")
        REJECTED = "rejected", _("Rejected")
        RETIRED = "retired", _("Retired")

    # Null course: the global model, used by courses that have no model of their own.
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="model_versions",
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    hyperparameters = models.JSONField(default=dict, blank=True)
    # Skill ids in the order of the model's skill indices (index i <-> skill_vocabulary[i]).
    skill_vocabulary = models.JSONField(default=list, blank=True)
    data_cutoff = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    artifact_path = models.CharField(max_length=500, blank=True)
    # Digest of the primary file (model.keras / bkt.json), shown to operators.
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    # sha256 of the artifact's manifest.json, which lists every file's sha256: what
    # adaptive.ml.artifacts.artifact_verify checks. Blank = never verified, never served.
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=50, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["course", "status"], name="model_version_scope_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(status="active", course__isnull=False),
                name="model_version_one_active_per_course",
            ),
            # NULLs are distinct in a unique index, so the global scope needs its own rule.
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active", course__isnull=True),
                name="model_version_one_active_global",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(activated_at__isnull=False),
                name="model_version_active_has_date",
            ),
        ]

    def __str__(self) -> str:
        scope = self.course.slug if self.course_id and self.course else "global"
        return f"{self.get_kind_display()} #{self.pk} ({scope}, {self.status})"

    @property
    def artifact_directory(self) -> Path:
        """Absolute artifact directory (stored relative to PATHWISE_MODEL_ROOT)."""
        path = Path(self.artifact_path)
        return path if path.is_absolute() else Path(settings.PATHWISE_MODEL_ROOT) / path

    @property
    def auc(self) -> float | None:
        value = (self.metrics or {}).get("auc")
        return float(value) if value is not None else None


class TrainingRun(models.Model):
    """One request to (re)train a scope, with its progress, log and outcome."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")
        THRESHOLD = "threshold", _("New attempts threshold")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="training_runs",
    )
    kind = models.CharField(
        max_length=8, choices=ModelVersion.Kind.choices, default=ModelVersion.Kind.GRU
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_runs",
    )
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_runs",
    )
    # {"stage": "training", "epoch": 3, "epochs": 20, "metrics": {...}}
    progress = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written every few seconds by the worker that holds the run; a run whose heartbeat is older
    # than PATHWISE_RUN_STALE_SECONDS lost its worker (see adaptive.services.retraining).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The epochs asked for (None: the trainer's default), kept so that a retry trains the same.
    epochs = models.PositiveSmallIntegerField(null=True, blank=True)
    # 1 for a request; n for the (n-1)th automatic retry of a run whose worker died.
    attempt = models.PositiveSmallIntegerField(default=1)
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["course", "status"], name="training_run_scope_status")]

    def __str__(self) -> str:
        return f"Training run #{self.pk} ({self.trigger}, {self.status})"


# The raw mastery vector's encoding: little-endian float32 values, each beside the little-endian
# int64 id of its skill (skill ids are BigAutoField).
MASTERY_DTYPE = np.dtype("<f4")
MASTERY_SKILL_DTYPE = np.dtype("<i8")


def mastery_encode(skill_ids: Sequence[int], values: np.ndarray) -> tuple[bytes, bytes]:
    """(mastery, mastery_skill_ids) bytes of one learner's raw mastery, in the given skill order."""
    if len(skill_ids) != len(values):
        raise ValueError("one mastery value per skill")
    return (
        np.asarray(values, dtype=MASTERY_DTYPE).tobytes(),
        np.asarray(skill_ids, dtype=MASTERY_SKILL_DTYPE).tobytes(),
    )


def mastery_decode(mastery: bytes | memoryview, skill_ids: bytes | memoryview) -> dict[int, float]:
    """skill id -> raw mastery from the stored bytes (empty when nothing was stored)."""
    values = np.frombuffer(mastery, dtype=MASTERY_DTYPE)
    ids = np.frombuffer(skill_ids, dtype=MASTERY_SKILL_DTYPE)
    if len(values) != len(ids):
        return {}
    return dict(zip(ids.tolist(), values.astype(np.float64).tolist(), strict=True))


class LearnerState(models.Model):
    """The model's state and raw mastery for one learner in one course.

    `state` lets an attempt cost one update step: for a GRU the recurrent state vector, for BKT
    the per-skill mastery vector, float32 bytes in the index order of the model version's
    vocabulary. `mastery` is the model's raw estimate P(mastered) of every skill of the course
    when it was written, float32 bytes in the order of `mastery_skill_ids` (int64 bytes).

    Why a vector here and not a row per skill (a `SkillMastery` table until issue 11): a refresh
    of 100,000 learners x 110 skills wrote 11 M indexed rows with two foreign-key checks each,
    most of the refresh's time; one row per learner is written with the state it comes from, so
    a state and a mastery of different model versions cannot exist. Every read goes through
    `adaptive.selectors.mastery_raw_load`. The skill ids travel with the values, so a skill
    added or removed after the write reads as "no estimate" or is ignored, never shifted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_states"
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="learner_states"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.BinaryField()
    mastery = models.BinaryField(default=b"", blank=True)
    mastery_skill_ids = models.BinaryField(default=b"", blank=True)
    # The newest attempt already folded into `state`; later attempts are applied in id order.
    last_attempt_id = models.BigIntegerField(null=True, blank=True)
    attempts_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="learner_state_unique"),
        ]

    def __str__(self) -> str:
        return f"State of {self.user_id} in {self.course_id}"


class LearningPath(models.Model):
    """The next steps recommended to one learner in one course."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learning_paths"
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="learning_paths"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="learning_path_unique"),
        ]
        indexes = [models.Index(fields=["course", "user"], name="learning_path_course_user")]

    def __str__(self) -> str:
        return f"Path of {self.user_id} in {self.course_id}"


class PathStep(models.Model):
    class Kind(models.TextChoices):
        LESSON = "lesson", _("Lesson")
        EXERCISE = "exercise", _("Exercise")
        REVIEW = "review", _("Review")

    # The unique (path, position) index serves lookups by path.
    path = models.ForeignKey(
        LearningPath, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    skill = models.ForeignKey("courses.Skill", on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(
        "courses.Lesson", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    exercise = models.ForeignKey(
        "courses.Exercise", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # {"kind", "skill", "mastery", "threshold", "prerequisite_of", "predicted_success", ...}
    reason = models.JSONField(default=dict)

    class Meta:
        ordering = ["path", "position"]
        constraints = [
            models.UniqueConstraint(fields=["path", "position"], name="path_step_unique_position"),
            models.CheckConstraint(
                condition=Q(lesson__isnull=False) | Q(exercise__isnull=False),
                name="path_step_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Step {self.position} ({self.kind})"


class MasteryDisplay(models.Model):
    """What a learner is shown about their mastery in a course (adaptive.display's state).

    The shown value of a skill depends on the value shown before (a right answer never lowers
    it), so it is stored. It lives in its own table, not on LearnerState, because a path refresh
    replaces those rows wholesale after a promotion, while what was shown must
    survive it: a new model changes the raw estimates, never the student's bars by itself.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mastery_displays"
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="mastery_displays"
    )
    # adaptive.display.DisplayState.to_json(): shown values, right answers, streaks, folded
    state = models.JSONField(default=dict)
    # The newest attempt folded into `state` (the panel shows "updating" until it is current).
    last_attempt_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="mastery_display_unique"),
        ]

    def __str__(self) -> str:
        return f"Shown mastery of {self.user_id} in {self.course_id}"


class PathRefresh(models.Model):
    """One refresh of every path of a course with one model version, split into chunk tasks.

    See adaptive.services.path_refresh_fanout: chunks run on the `default` workers; a newer
    refresh of the course supersedes this one, and its remaining chunks then do nothing.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        SUPERSEDED = "superseded", _("Superseded by a newer refresh")
        FAILED = "failed", _("Failed")

    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="path_refreshes"
    )
    # The version every chunk writes with; null: the cold-start BKT (no trained model).
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The retrain whose promotion asked for it (null: an activation, a rollback, an operator).
    training_run = models.ForeignKey(
        TrainingRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="path_refreshes",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    chunk_size = models.PositiveIntegerField()
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    learners_total = models.PositiveIntegerField(default=0)  # enrolled when it started
    learners = models.PositiveIntegerField(default=0)  # refreshed so far
    rows = models.PositiveBigIntegerField(default=0)
    # How many times its chunk tasks were sent (the reaper sends the missing ones again).
    dispatches = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(default=timezone.now)
    # Last sign of life: a chunk done, or a dispatch; the reaper counts silence from it.
    progressed_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("path refresh")
        verbose_name_plural = _("path refreshes")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "progressed_at"], name="path_refresh_open")]
        constraints = [
            # Starting a refresh supersedes the running one in the same transaction.
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(status="running"),
                name="path_refresh_one_running_per_course",
            ),
            models.CheckConstraint(
                condition=Q(chunks_done__lte=F("chunks_total")),
                name="path_refresh_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Path refresh #{self.pk} of course {self.course_id} ({self.status})"


class PathRefreshChunk(models.Model):
    """The learners of one chunk task: the enrolled ones whose ids lie in [first, last]."""

    class Outcome(models.TextChoices):
        WRITTEN = "written", _("Written")
        SKIPPED = "skipped", _("Skipped: the refresh was no longer current")

    refresh = models.ForeignKey(PathRefresh, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_user_id = models.BigIntegerField()
    last_user_id = models.BigIntegerField()
    # Set in the transaction that writes the chunk's rows: a second delivery finds it set.
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    learners = models.PositiveIntegerField(default=0)
    rows = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["refresh", "index"]
        constraints = [
            models.UniqueConstraint(fields=["refresh", "index"], name="path_refresh_chunk_unique"),
            models.CheckConstraint(
                condition=Q(first_user_id__lte=F("last_user_id")),
                name="path_refresh_chunk_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Chunk {self.index} of path refresh {self.refresh_id}"


class ClassSummary(models.Model):
    """A course's class dashboard figures as of `computed_at` (adaptive.services.class_summary).

    At 10,000 learners a page view cannot recompute every learner's shown mastery, so a task on
    the `default` queue recomputes these rows after online updates (debounced by `queued_at`)
    and the page reads them in a few queries, saying "as of" when.
    """

    course = models.OneToOneField(
        "courses.Course", on_delete=models.CASCADE, primary_key=True, related_name="class_summary"
    )
    computed_at = models.DateTimeField(null=True, blank=True)
    # Set when a recompute is queued, cleared when it starts: one queued recompute per course.
    queued_at = models.DateTimeField(null=True, blank=True)
    # What the figures were computed from, so that a page view can tell they are behind.
    learners = models.PositiveIntegerField(default=0)
    last_attempt_id = models.BigIntegerField(null=True, blank=True)
    compute_seconds = models.FloatField(null=True, blank=True)
    # Per exercise, hardest first: [{"exercise_id", "title", "attempts", "correct", "learners"}]
    exercise_stats = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Class summary of {self.course_id}"


class ClassSkillSummary(models.Model):
    """How many enrolled learners are shown each status on one skill (adaptive.display)."""

    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="class_skill_summaries"
    )
    skill = models.ForeignKey(
        "courses.Skill", on_delete=models.CASCADE, related_name="class_summaries"
    )
    not_started = models.PositiveIntegerField(default=0)
    learning = models.PositiveIntegerField(default=0)
    almost = models.PositiveIntegerField(default=0)
    mastered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "skill"], name="class_skill_summary_unique"),
        ]

    def __str__(self) -> str:
        return f"Class summary of skill {self.skill_id}"


class ClassLearnerSummary(models.Model):
    """One enrolled learner's row of the class dashboard's learner list (paged, sorted, searched).

    The figures that need all of a learner's attempts (progress, correct rate, mastered skills)
    are kept here so that sorting 10,000 learners by them is an ordered read of one table.
    """

    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="class_learner_summaries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="class_summaries"
    )
    # Copied from the user, so that the default order (by name) is an index scan.
    username = models.CharField(max_length=150)
    enrollment_status = models.CharField(max_length=10)
    attempts = models.PositiveIntegerField(default=0)
    correct_attempts = models.PositiveIntegerField(default=0)
    correct_rate = models.FloatField(null=True, blank=True)  # None: no answer yet
    # learners.selectors.CourseProgress.percent_complete: lessons completed and exercises solved
    progress_percent = models.FloatField(default=0.0)
    skills_started = models.PositiveIntegerField(default=0)
    skills_mastered = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="class_learner_summary_unique"),
        ]
        # One per order of the learner list (adaptive.class_selectors.LEARNER_SORTS), so that a
        # page of 10,000 learners in any order is an index scan, not a sort of all of them.
        indexes = [
            models.Index(fields=["course", "username", "user"], name="class_learner_by_name"),
            models.Index(
                "course", "correct_rate", "username", "user", name="class_learner_by_correct"
            ),
            models.Index(
                "course",
                models.F("progress_percent").desc(),
                "username",
                "user",
                name="class_learner_by_progress",
            ),
            models.Index(
                "course",
                models.F("skills_mastered").desc(),
                "username",
                "user",
                name="class_learner_by_mastered",
            ),
            models.Index(
                "course",
                # Without NULLS LAST: SQLite (`make run`) refuses it in an index. The list's
                # DESC NULLS LAST then sorts one course's rows (10,000 in a few ms).
                models.F("last_activity_at").desc(),
                "username",
                "user",
                name="class_learner_by_activity",
            ),
        ]

    def __str__(self) -> str:
        return f"Class summary of learner {self.user_id} in {self.course_id}"
