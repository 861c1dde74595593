"""Shapes of the learner API: enrolments, attempts, lesson events, progress and the profile."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from courses.models import Course, Exercise, Lesson, LessonBlock
from courses.selectors import (
    course_list_visible,
    exercise_list_visible,
    lesson_block_list_visible,
    lesson_list_visible,
)
from courses.serializers import VisibleRelatedField
from learners.exceptions import AttemptError
from learners.models import Attempt, Enrollment, LessonEvent, User
from learners.services import answer_validate

# Output -----------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "is_staff",
            "preferred_language",
            "date_joined",
        ]
        read_only_fields = fields


class EnrollmentSerializer(serializers.ModelSerializer):
    course_title = serializers.CharField(source="course.title", read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "course", "course_title", "status", "enrolled_at", "completed_at"]
        read_only_fields = fields


class AttemptSerializer(serializers.ModelSerializer):
    answer = serializers.JSONField(read_only=True)

    class Meta:
        model = Attempt
        fields = [
            "id",
            "user",
            "exercise",
            "course",
            "answer",
            "is_correct",
            "hints_used",
            "is_revealed",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class ExerciseStateSerializer(serializers.Serializer):
    """Where the caller stands on one exercise (learners.selectors.ExerciseState)."""

    exercise = serializers.IntegerField(source="exercise_id")
    max_attempts = serializers.IntegerField()
    attempts_used = serializers.IntegerField()
    attempts_left = serializers.IntegerField()
    accepts_attempts = serializers.BooleanField()
    is_solved = serializers.BooleanField()
    solved_on_attempt = serializers.IntegerField(allow_null=True)
    is_revealed = serializers.BooleanField()
    solution_shown = serializers.BooleanField(source="shows_solution")
    answer = serializers.JSONField(allow_null=True)
    hints_used = serializers.IntegerField()


class SolutionSerializer(serializers.Serializer):
    """The correct answer and the worked explanation, once the attempt policy shows them."""

    correct_answer = serializers.JSONField(allow_null=True)
    explanation_html = serializers.CharField()
    state = ExerciseStateSerializer()


class AttemptResultSerializer(AttemptSerializer):
    """The stored attempt plus what the learner may see now (learners.services.AttemptResult).

    `correct_answer` and `explanation_html` stay null and empty until `state.solution_shown`.
    """

    feedback = serializers.ListField(child=serializers.CharField(), read_only=True)
    feedback_html = serializers.ListField(child=serializers.CharField(), read_only=True)
    explanation_html = serializers.CharField(read_only=True)
    correct_answer = serializers.JSONField(read_only=True, allow_null=True)
    state = ExerciseStateSerializer(read_only=True)

    class Meta(AttemptSerializer.Meta):
        fields = [
            *AttemptSerializer.Meta.fields,
            "feedback",
            "feedback_html",
            "explanation_html",
            "correct_answer",
            "state",
        ]
        read_only_fields = fields


class HintRevealResultSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = serializers.CharField()
    text_html = serializers.CharField()
    hints_used = serializers.IntegerField()
    hint_count = serializers.IntegerField()


class LessonEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = LessonEvent
        fields = ["id", "user", "lesson", "block", "verb", "position_seconds", "created_at"]
        read_only_fields = fields


class ResumePositionSerializer(serializers.Serializer):
    block = serializers.IntegerField()
    position_seconds = serializers.FloatField()


class CourseProgressSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    course_slug = serializers.CharField()
    course_title = serializers.CharField()
    enrollment_status = serializers.CharField()
    lessons_total = serializers.IntegerField()
    lessons_completed = serializers.IntegerField()
    exercises_total = serializers.IntegerField()
    exercises_attempted = serializers.IntegerField()
    exercises_solved = serializers.IntegerField()
    attempts = serializers.IntegerField()
    correct_attempts = serializers.IntegerField()
    percent_complete = serializers.FloatField()


class AuthTokenSerializer(serializers.Serializer):
    token = serializers.CharField()


# Input ------------------------------------------------------------------------------------------


class ProfileUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    preferred_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class EnrollmentCreateSerializer(serializers.Serializer):
    course = VisibleRelatedField(model=Course, visible=course_list_visible)


class AttemptCreateSerializer(serializers.Serializer):
    exercise = VisibleRelatedField(model=Exercise, visible=exercise_list_visible)
    answer = serializers.JSONField(
        help_text="A choice id (single), a list of choice ids (multiple), a number or numeric "
        "text (numeric), or text (text)."
    )
    hints_used = serializers.IntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        help_text="Ignored: the server counts the hints this learner revealed "
        "(POST /exercises/{id}/hints/next).",
    )
    duration_ms = serializers.IntegerField(
        min_value=0, max_value=24 * 3600 * 1000, required=False, allow_null=True
    )

    def validate_answer(self, answer: Any) -> Any:
        try:
            answer_validate(answer)
        except AttemptError as error:
            raise serializers.ValidationError(error.message) from error
        return answer


class LessonEventCreateSerializer(serializers.Serializer):
    lesson = VisibleRelatedField(model=Lesson, visible=lesson_list_visible)
    block = VisibleRelatedField(
        model=LessonBlock, visible=lesson_block_list_visible, required=False, allow_null=True
    )
    verb = serializers.ChoiceField(choices=LessonEvent.Verb.choices)
    position_seconds = serializers.FloatField(
        min_value=0, max_value=10_000_000, required=False, allow_null=True
    )
