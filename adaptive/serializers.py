"""API shapes of knowledge state, learning paths, recommendations and the model registry."""

from django.urls import reverse
from rest_framework import serializers

from adaptive.display import STATUSES
from adaptive.display_store import exercise_lessons
from adaptive.models import LearningPath, ModelVersion, PathStep, TrainingRun
from adaptive.planning import reason_sentence


class RecommendRequestSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1)
    last_lesson = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    course = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The course, when no last_lesson is given.",
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("last_lesson") and not attrs.get("course"):
            raise serializers.ValidationError("Give last_lesson or course.")
        return attrs


class LessonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    module = serializers.IntegerField(source="module_id")


class PathStepSerializer(serializers.ModelSerializer):
    lesson = serializers.SerializerMethodField()
    exercise = serializers.SerializerMethodField()
    skill = serializers.SerializerMethodField()
    sentence = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(
        help_text="The page the step opens: the lesson, or the exercise on its lesson page."
    )

    class Meta:
        model = PathStep
        fields = ("position", "kind", "lesson", "exercise", "skill", "reason", "sentence", "url")

    def get_url(self, step: PathStep) -> str | None:
        lesson_id = step.lesson_id
        if lesson_id is None and step.exercise_id is not None:
            lesson_id = exercise_lessons(exercise_ids={step.exercise_id}).get(step.exercise_id)
        if lesson_id is None:
            return None
        url = reverse("learners:lesson", args=[step.skill.course.slug, lesson_id])
        return f"{url}#exercise-{step.exercise_id}" if step.exercise_id else url

    def get_lesson(self, step: PathStep) -> dict | None:
        return {"id": step.lesson_id, "title": step.lesson.title} if step.lesson_id else None

    def get_exercise(self, step: PathStep) -> dict | None:
        if not step.exercise_id:
            return None
        return {"id": step.exercise_id, "title": str(step.exercise)}

    def get_skill(self, step: PathStep) -> dict:
        return {"id": step.skill_id, "name": step.skill.name}

    def get_sentence(self, step: PathStep) -> str:
        return reason_sentence(step.reason)


class RecommendResponseSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    course = serializers.IntegerField(source="course_id")
    next_lesson = LessonRefSerializer(allow_null=True)
    reason = serializers.CharField()
    reason_detail = serializers.DictField()
    model_version = serializers.IntegerField(source="model_version_id", allow_null=True)
    next_steps = PathStepSerializer(source="steps", many=True)


class LearningPathSerializer(serializers.ModelSerializer):
    course = serializers.SerializerMethodField()
    steps = PathStepSerializer(many=True, read_only=True)

    class Meta:
        model = LearningPath
        fields = ("course", "model_version", "generated_at", "steps")

    def get_course(self, path: LearningPath) -> dict:
        return {"id": path.course_id, "slug": path.course.slug, "title": path.course.title}


class ShownMasterySerializer(serializers.Serializer):
    """One skill as the learner is shown it (adaptive.display), with the model's raw estimate."""

    course = serializers.IntegerField()
    skill = serializers.DictField(help_text="{id, name}")
    status = serializers.ChoiceField(choices=STATUSES)
    percent = serializers.IntegerField(
        allow_null=True, help_text="The number on the bar; null while not started."
    )
    probability = serializers.FloatField(
        help_text="The shown mastery, 0 to 1 (0 while not started: no own evidence yet)."
    )
    estimate_percent = serializers.IntegerField(
        allow_null=True,
        help_text="Not started only: the model's estimate from related skills, an estimate.",
    )
    estimate_from = serializers.ListField(child=serializers.CharField())
    caveat = serializers.ListField(
        child=serializers.CharField(),
        help_text="Mastered although these direct prerequisites are not started or learning.",
    )
    model_probability = serializers.FloatField(
        allow_null=True, help_text="The knowledge-tracing model's raw estimate (not shown)."
    )
    updating = serializers.BooleanField(help_text="Newer answers are still being applied.")


class MasteryMatrixSerializer(serializers.Serializer):
    skills = serializers.ListField(child=serializers.DictField())
    learners = serializers.ListField(child=serializers.DictField())
    probabilities = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="Shown mastery (adaptive.display), learners x skills; null: not started.",
    )
    statuses = serializers.ListField(
        child=serializers.ListField(child=serializers.ChoiceField(choices=STATUSES))
    )
    count = serializers.IntegerField(help_text="Learners in the course (all pages).")
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class ModelVersionSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = (
            "id",
            "scope",
            "course",
            "kind",
            "status",
            "metrics",
            "counts",
            "hyperparameters",
            "data_cutoff",
            "device",
            "duration_seconds",
            "rejection_reason",
            "created_at",
            "activated_at",
        )

    def get_scope(self, version: ModelVersion) -> str:
        return "course" if version.course_id else "global"


class RetrainRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ModelVersion.Kind.choices, default="gru")
    epochs = serializers.IntegerField(min_value=1, max_value=500, required=False, allow_null=True)


class TrainingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingRun
        fields = (
            "id",
            "course",
            "kind",
            "trigger",
            "status",
            "outcome",
            "progress",
            "model_version",
            "error",
            "timings",
            "created_at",
            "started_at",
            "finished_at",
        )
