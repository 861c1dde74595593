"""Shapes of the catalogue API: input serializers validate, output serializers render.

Input serializers take the caller from the context so that a related id only resolves to content
the caller may see; anything else reads as an unknown id.
"""

from typing import Any

from django.conf import settings
from django.db import models
from rest_framework import serializers

from config.validation import MAX_ID_DIGITS, is_ascii_id
from courses.markdown import markdown_inline_render, markdown_render
from courses.models import (
    MAX_ATTEMPTS_LIMIT,
    Choice,
    Course,
    Exercise,
    Hint,
    Lesson,
    LessonBlock,
    Module,
    Skill,
)
from courses.selectors import (
    course_list_visible,
    exercise_list_visible,
    lesson_list_visible,
    module_list_visible,
    skill_list_visible,
)

MARKDOWN_MAX_CHARS = 100_000


def _caller(serializer: serializers.BaseSerializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name content visible to the caller (else: unknown id)."""

    def __init__(self, *, model: type[models.Model], visible: Any, **kwargs: Any) -> None:
        self.visible = visible
        kwargs.setdefault("queryset", model._default_manager.none())
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        # An id is an integer or its ASCII digits (config.validation): 1.5 must not read as 1.
        if not (isinstance(data, int) and not isinstance(data, bool)) and not is_ascii_id(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, int) and not 0 < data < 10**MAX_ID_DIGITS:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    def get_queryset(self) -> Any:
        user = _caller(self.root) if self.root is not None else None
        if user is None:
            return super().get_queryset()
        return self.visible(user=user)


def _markdown_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=MARKDOWN_MAX_CHARS, allow_blank=True, **kwargs)


# Output -----------------------------------------------------------------------------------------


class CourseSerializer(serializers.ModelSerializer):
    description_html = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = [
            "id",
            "slug",
            "title",
            "summary",
            "description_md",
            "description_html",
            "cover",
            "language",
            "subject",
            "level",
            "owner",
            "instructors",
            "status",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_description_html(self, course: Course) -> str:
        return markdown_render(course.description_md)


class ModuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Module
        fields = ["id", "course", "title", "summary", "position"]
        read_only_fields = fields


class LessonSerializer(serializers.ModelSerializer):
    course = serializers.IntegerField(source="module.course_id", read_only=True)

    class Meta:
        model = Lesson
        fields = [
            "id",
            "course",
            "module",
            "title",
            "slug",
            "position",
            "estimated_minutes",
            "skills",
        ]
        read_only_fields = fields


class LessonBlockSerializer(serializers.ModelSerializer):
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = LessonBlock
        fields = [
            "id",
            "lesson",
            "position",
            "kind",
            "body_md",
            "body_html",
            "media",
            "captions",
            "transcript",
            "alt_text",
            "duration_seconds",
            "exercise",
        ]
        read_only_fields = fields

    def get_body_html(self, block: LessonBlock) -> str:
        return markdown_render(block.body_md)


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "course", "name", "description", "external_id", "prerequisites"]
        read_only_fields = fields


class ChoiceLearnerSerializer(serializers.ModelSerializer):
    text_html = serializers.SerializerMethodField()

    class Meta:
        model = Choice
        fields = ["id", "text", "text_html", "position"]
        read_only_fields = fields

    def get_text_html(self, choice: Choice) -> str:
        return markdown_inline_render(choice.text)


class ChoiceEditorSerializer(ChoiceLearnerSerializer):
    feedback_html = serializers.SerializerMethodField()

    class Meta:
        model = Choice
        fields = [*ChoiceLearnerSerializer.Meta.fields, "is_correct", "feedback", "feedback_html"]
        read_only_fields = fields

    def get_feedback_html(self, choice: Choice) -> str:
        return markdown_inline_render(choice.feedback)


class HintSerializer(serializers.ModelSerializer):
    text_html = serializers.SerializerMethodField()

    class Meta:
        model = Hint
        fields = ["position", "text", "text_html"]
        read_only_fields = fields

    def get_text_html(self, hint: Hint) -> str:
        return markdown_inline_render(hint.text)


class ExerciseLearnerSerializer(serializers.ModelSerializer):
    """What a learner sees before answering: never the answer, the feedback or the explanation."""

    prompt_html = serializers.SerializerMethodField()
    choices = ChoiceLearnerSerializer(many=True, read_only=True)
    hint_count = serializers.SerializerMethodField()

    class Meta:
        model = Exercise
        fields = [
            "id",
            "course",
            "title",
            "kind",
            "prompt_md",
            "prompt_html",
            "skills",
            "choices",
            "hint_count",
            "max_attempts",
        ]
        read_only_fields = fields

    def get_prompt_html(self, exercise: Exercise) -> str:
        return markdown_render(exercise.prompt_md)

    def get_hint_count(self, exercise: Exercise) -> int:
        return len(exercise.hints.all())


class ExerciseEditorSerializer(ExerciseLearnerSerializer):
    """What the course's editors see: everything, answers included."""

    choices = ChoiceEditorSerializer(many=True, read_only=True)
    hints = HintSerializer(many=True, read_only=True)
    accepted_answers = serializers.ListField(child=serializers.CharField(), read_only=True)
    explanation_html = serializers.SerializerMethodField()

    class Meta:
        model = Exercise
        fields = [
            *ExerciseLearnerSerializer.Meta.fields,
            "hints",
            "numeric_answer",
            "tolerance",
            "accepted_answers",
            "explanation_md",
            "explanation_html",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_explanation_html(self, exercise: Exercise) -> str:
        return markdown_render(exercise.explanation_md)


class HintRevealSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = serializers.CharField()
    text_html = serializers.SerializerMethodField()
    hint_count = serializers.IntegerField()

    def get_text_html(self, hint: dict[str, Any]) -> str:
        return markdown_inline_render(hint["text"])


# Input ------------------------------------------------------------------------------------------


class CourseInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True)
    description_md = _markdown_field(required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    subject = serializers.ChoiceField(choices=Course.Subject.choices, required=False)
    level = serializers.ChoiceField(choices=Course.Level.choices, required=False)
    cover = serializers.FileField(required=False)


class ModuleCreateSerializer(serializers.Serializer):
    course = VisibleRelatedField(model=Course, visible=course_list_visible)
    title = serializers.CharField(max_length=200)
    summary = _markdown_field(required=False)


class ModuleUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    summary = _markdown_field(required=False)


class ModuleReorderSerializer(serializers.Serializer):
    course = VisibleRelatedField(model=Course, visible=course_list_visible)
    order = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class LessonUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    estimated_minutes = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    skills = VisibleRelatedField(model=Skill, visible=skill_list_visible, many=True, required=False)


class LessonCreateSerializer(LessonUpdateSerializer):
    module = VisibleRelatedField(model=Module, visible=module_list_visible)


class LessonReorderSerializer(serializers.Serializer):
    module = VisibleRelatedField(model=Module, visible=module_list_visible)
    order = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class LessonBlockUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LessonBlock.Kind.choices)
    body_md = _markdown_field(required=False)
    media = serializers.FileField(required=False)
    captions = serializers.FileField(required=False)
    transcript = _markdown_field(required=False)
    alt_text = serializers.CharField(max_length=500, required=False, allow_blank=True)
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True
    )
    exercise = VisibleRelatedField(
        model=Exercise, visible=exercise_list_visible, required=False, allow_null=True
    )


class LessonBlockCreateSerializer(LessonBlockUpdateSerializer):
    lesson = VisibleRelatedField(model=Lesson, visible=lesson_list_visible)


class LessonBlockReorderSerializer(serializers.Serializer):
    lesson = VisibleRelatedField(model=Lesson, visible=lesson_list_visible)
    order = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class SkillUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = _markdown_field(required=False)


class SkillCreateSerializer(SkillUpdateSerializer):
    course = VisibleRelatedField(model=Course, visible=course_list_visible)


class SkillPrerequisiteInputSerializer(serializers.Serializer):
    requires = VisibleRelatedField(model=Skill, visible=skill_list_visible)


class ChoiceInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    is_correct = serializers.BooleanField(default=False)
    feedback = _markdown_field(required=False, default="")


class ExerciseUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Exercise.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    prompt_md = serializers.CharField(max_length=MARKDOWN_MAX_CHARS)
    numeric_answer = serializers.FloatField(required=False, allow_null=True)
    tolerance = serializers.FloatField(min_value=0, required=False)
    accepted_answers = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=100, required=False
    )
    explanation_md = _markdown_field(required=False)
    max_attempts = serializers.IntegerField(
        min_value=1, max_value=MAX_ATTEMPTS_LIMIT, required=False
    )
    choices = ChoiceInputSerializer(many=True, required=False, max_length=50)  # type: ignore[call-arg]
    hints = serializers.ListField(
        child=serializers.CharField(max_length=MARKDOWN_MAX_CHARS), max_length=20, required=False
    )
    skills = VisibleRelatedField(model=Skill, visible=skill_list_visible, many=True, required=False)


class ExerciseCreateSerializer(ExerciseUpdateSerializer):
    course = VisibleRelatedField(model=Course, visible=course_list_visible)


class CourseInstructorInputSerializer(serializers.Serializer):
    """Who to add as a co-instructor: a username or a user id (exactly one)."""

    username = serializers.CharField(required=False, max_length=150)
    user = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("username" in attrs) == ("user" in attrs):
            raise serializers.ValidationError("Give either a username or a user id.")
        return attrs
