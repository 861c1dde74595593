"""Catalogue and content: courses, modules, lessons, blocks, skills, exercises."""

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from courses.validators import validate_audio, validate_captions, validate_image, validate_video


class Course(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class Subject(models.TextChoices):
        MATHEMATICS = "mathematics", _("Mathematics")
        STATISTICS = "statistics", _("Statistics and data")
        COMPUTING = "computing", _("Computing")
        SCIENCE = "science", _("Science")
        LANGUAGES = "languages", _("Languages")
        HUMANITIES = "humanities", _("Humanities")
        OTHER = "other", _("Other")

    class Level(models.TextChoices):
        # In this order on the catalogue filter: what a newcomer can start with first.
        BEGINNER = "beginner", _("Beginner")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    description_md = models.TextField(blank=True)
    cover = models.ImageField(upload_to="courses/covers/", blank=True, validators=[validate_image])
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    subject = models.CharField(max_length=20, choices=Subject.choices, default=Subject.OTHER)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_courses"
    )
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="taught_courses"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["status", "published_at"], name="course_status_published")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="course_published_has_date",
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="course_slug_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="course_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "position"], name="module_unique_position"),
            models.CheckConstraint(condition=~Q(title=""), name="module_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class Skill(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # A stable key for imported skills (e.g. an ASSISTments skill id); blank for authored ones.
    external_id = models.CharField(max_length=100, blank=True)
    prerequisites = models.ManyToManyField(
        "self",
        through="SkillPrerequisite",
        through_fields=("skill", "requires"),
        symmetrical=False,
        related_name="dependents",
        blank=True,
    )

    class Meta:
        ordering = ["course", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="skill_unique_name"),
            models.UniqueConstraint(
                fields=["course", "external_id"],
                condition=~Q(external_id=""),
                name="skill_unique_external_id",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="skill_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class SkillPrerequisite(models.Model):
    """`skill` requires `requires` first. The graph is kept acyclic by courses.services."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="prerequisite_links")
    requires = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="dependent_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["skill", "requires"], name="prerequisite_unique"),
            models.CheckConstraint(
                condition=~Q(skill=models.F("requires")), name="prerequisite_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} requires {self.requires}"


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    position = models.PositiveIntegerField()
    estimated_minutes = models.PositiveIntegerField(default=10)
    skills = models.ManyToManyField(Skill, blank=True, related_name="lessons")

    class Meta:
        ordering = ["module", "position"]
        constraints = [
            models.UniqueConstraint(fields=["module", "position"], name="lesson_unique_position"),
            models.UniqueConstraint(fields=["module", "slug"], name="lesson_unique_slug"),
            models.CheckConstraint(condition=~Q(title=""), name="lesson_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


DEFAULT_MAX_ATTEMPTS = 3
MAX_ATTEMPTS_LIMIT = 20


class Exercise(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        NUMERIC = "numeric", _("Numeric")
        TEXT = "text", _("Short text")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="exercises")
    title = models.CharField(max_length=200, blank=True)
    prompt_md = models.TextField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    skills = models.ManyToManyField(Skill, blank=True, related_name="exercises")
    numeric_answer = models.FloatField(null=True, blank=True)
    tolerance = models.FloatField(default=0.0, validators=[MinValueValidator(0.0)])
    # For `text` exercises: every accepted answer, compared after NFKC, case and space folding.
    accepted_answers = models.JSONField(default=list, blank=True)
    explanation_md = models.TextField(blank=True)
    # Graded attempts a learner gets before the answer and the explanation are shown.
    max_attempts = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_ATTEMPTS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ATTEMPTS_LIMIT)],
        help_text=_("Graded answers allowed before the solution is shown."),
    )
    # A stable key for imported problems (e.g. an ASSISTments problem id); blank for authored ones.
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(tolerance__gte=0), name="exercise_tolerance_gte_0"),
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1, max_attempts__lte=MAX_ATTEMPTS_LIMIT),
                name="exercise_max_attempts_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind="numeric") | Q(numeric_answer__isnull=False),
                name="exercise_numeric_has_answer",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["single", "multiple", "numeric", "text"]),
                name="exercise_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["course", "external_id"],
                condition=~Q(external_id=""),
                name="exercise_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Exercise {self.pk}"


class Choice(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField(default=False)
    feedback = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["exercise", "position", "id"]

    def __str__(self) -> str:
        return self.text


class Hint(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="hints")
    position = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["exercise", "position"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "position"], name="hint_unique_position"),
        ]

    def __str__(self) -> str:
        return f"Hint {self.position}"


class LessonBlock(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        IMAGE = "image", _("Image")
        EXERCISE = "exercise", _("Exercise")

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="blocks")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body_md = models.TextField(blank=True)
    media = models.FileField(upload_to="lessons/media/", blank=True, max_length=255)
    captions = models.FileField(
        upload_to="lessons/captions/", blank=True, validators=[validate_captions], max_length=255
    )
    transcript = models.TextField(blank=True)
    alt_text = models.CharField(max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    exercise = models.ForeignKey(
        Exercise, on_delete=models.PROTECT, null=True, blank=True, related_name="blocks"
    )

    class Meta:
        ordering = ["lesson", "position"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "position"], name="block_unique_position"),
            models.CheckConstraint(
                condition=~Q(kind="exercise") | Q(exercise__isnull=False),
                name="block_exercise_has_exercise",
            ),
            models.CheckConstraint(
                condition=Q(kind="exercise") | Q(exercise__isnull=True),
                name="block_only_exercise_kind_links_exercise",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["video", "audio", "image"]) | ~Q(media=""),
                name="block_media_kind_has_media",
            ),
            models.CheckConstraint(
                condition=~Q(kind="image") | ~Q(alt_text=""),
                name="block_image_has_alt_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} block {self.position}"

    MEDIA_VALIDATORS: ClassVar[dict[str, Callable[[Any], None]]] = {
        Kind.VIDEO: validate_video,
        Kind.AUDIO: validate_audio,
        Kind.IMAGE: validate_image,
    }
