"""Accounts and activity: users, enrolments, the append-only attempt and lesson-event logs."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course, Exercise, Lesson


class User(AbstractUser):
    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        TEACHER = "teacher", _("Teacher")

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    preferred_language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    # The interaction log an account was imported from (learners.importers); empty for people who
    # signed up. An import only ever adds to accounts of its own source.
    # db_default too: bulk COPY inserts (learners.bulk) name only the columns they fill.
    import_source = models.CharField(
        max_length=16, blank=True, default="", db_default="", editable=False
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["student", "teacher"]), name="user_role_valid"
            ),
            # One account per e-mail address, whatever its case; many accounts may have none.
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_email_unique_ci",
                violation_error_message=_("Another account already uses this e-mail address."),
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() keeps the new raw password until the save: a changed or reset password
        # (web, API, admin, changepassword) ends every API token of the account.
        if getattr(self, "_password", None) is not None and self.pk is not None:
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user_id=self.pk).delete()
        super().save(*args, **kwargs)

    @property
    def is_teacher(self) -> bool:
        return self.role == self.Role.TEACHER

    @property
    def is_student(self) -> bool:
        return self.role == self.Role.STUDENT


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DROPPED = "dropped", _("Dropped")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrollment_unique"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="enrollment_completed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["course", "status"], name="enrollment_course_status")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"


class Attempt(models.Model):
    """One answer to one exercise; append-only (never updated or deleted by the platform)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="attempts")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="attempts")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="attempts")
    answer = models.JSONField()
    is_correct = models.BooleanField()
    # Counted on the server from the learner's HintReveal rows, never taken from the client.
    hints_used = models.PositiveIntegerField(default=0)
    # The learner asked to see the solution: recorded as a wrong answer (the model must not read
    # it as known), and no graded attempt follows it. A database default too: the bulk importer
    # writes attempts with COPY and names only the columns it knows.
    is_revealed = models.BooleanField(default=False, db_default=False)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set only for imported interactions, so that a second import adds nothing.
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="attempt_user_created"),
            models.Index(fields=["course", "created_at"], name="attempt_course_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "external_id"],
                condition=~Q(external_id=""),
                name="attempt_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(is_revealed=False) | Q(is_correct=False),
                name="attempt_revealed_is_not_correct",
            ),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.pk} by {self.user_id}"


class HintReveal(models.Model):
    """A hint the learner chose to see; append-only, one row per hint and learner."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="hint_reveals")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="hint_reveals")
    # The hint's position, not a key: editing an exercise replaces its Hint rows.
    position = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "exercise", "position"], name="hint_reveal_unique"
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="hint_reveal_position_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw hint {self.position} of {self.exercise_id}"


class LessonEvent(models.Model):
    """An xAPI-shaped statement about a lesson; append-only. Video resume position comes from it."""

    class Verb(models.TextChoices):
        VIEWED = "viewed", _("Viewed")
        COMPLETED = "completed", _("Completed")
        PLAYED = "played", _("Played")
        PAUSED = "paused", _("Paused")
        SEEKED = "seeked", _("Seeked")
        PROGRESSED = "progressed", _("Progressed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="lesson_events")
    # The log outlives content edits: a lesson with learner activity cannot be deleted, and a
    # removed block leaves its events on the lesson.
    lesson = models.ForeignKey(Lesson, on_delete=models.PROTECT, related_name="events")
    block = models.ForeignKey(
        "courses.LessonBlock",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    verb = models.CharField(max_length=12, choices=Verb.choices)
    position_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["user", "lesson", "created_at"], name="event_user_lesson_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(position_seconds__isnull=True) | Q(position_seconds__gte=0),
                name="event_position_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.verb} {self.lesson_id}"


# Teacher onboarding lives in its own module; imported here so the app registers its models.
from learners.teaching_models import TeacherInvitation, TeacherRequest  # noqa: E402

__all__ = [
    "Attempt",
    "Enrollment",
    "LessonEvent",
    "TeacherInvitation",
    "TeacherRequest",
    "User",
]
