"""REST endpoints of the catalogue: courses, modules, lessons, blocks, skills, exercises.

Reads go through the `*_list_visible` selectors, so content of a course the caller may not see
answers 404; writes need a teacher (or staff) who edits that course, else 403.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.validation import optional_id, parse_id
from courses import services
from courses.models import Course, Exercise, Lesson, LessonBlock, Module, Skill
from courses.permissions import IsAuthorOrReadOnly
from courses.selectors import (
    course_instructors_manageable_by,
    course_is_editable_by,
    course_list_editable,
    course_list_visible,
    exercise_hint_get,
    exercise_list_visible,
    lesson_block_list_visible,
    lesson_list_visible,
    module_list_visible,
    skill_list_visible,
)
from courses.serializers import (
    CourseInputSerializer,
    CourseInstructorInputSerializer,
    CourseSerializer,
    ExerciseCreateSerializer,
    ExerciseEditorSerializer,
    ExerciseLearnerSerializer,
    ExerciseUpdateSerializer,
    HintRevealSerializer,
    LessonBlockCreateSerializer,
    LessonBlockReorderSerializer,
    LessonBlockSerializer,
    LessonBlockUpdateSerializer,
    LessonCreateSerializer,
    LessonReorderSerializer,
    LessonSerializer,
    LessonUpdateSerializer,
    ModuleCreateSerializer,
    ModuleReorderSerializer,
    ModuleSerializer,
    ModuleUpdateSerializer,
    SkillCreateSerializer,
    SkillPrerequisiteInputSerializer,
    SkillSerializer,
    SkillUpdateSerializer,
)

# ASCII digits, at most 18 (config.validation.MAX_ID_DIGITS): longer ids are simply not found.
ID_PATTERN = "[0-9]{1,18}"


def query_id(request: Request, name: str) -> int | None:
    """An optional id query parameter (config.validation's rule); anything else is a 400."""
    return optional_id(request.query_params.get(name), name=name)


def _filter_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, description=f"Only the {what} of this id.")


class ContentViewSet(viewsets.GenericViewSet):
    """Shared plumbing: validate input with a serializer, check the editor, render the output."""

    permission_classes = (IsAuthorOrReadOnly,)
    lookup_value_regex = ID_PATTERN

    def validated(self, serializer_class: type[serializers.Serializer], **kwargs: Any) -> Any:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def require_editor(self, content: Any) -> None:
        """403 unless the caller edits the course `content` belongs to."""
        self.check_object_permissions(self.request, content)

    def render(self, instance: Any, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)

    def render_many(self, instances: list[Any]) -> Response:
        return Response(self.get_serializer(instances, many=True).data)


# Courses ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Published courses, plus the caller's own drafts"),
    retrieve=extend_schema(summary="One course (a draft only for its editors)"),
)
class CourseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ContentViewSet):
    queryset = Course.objects.none()
    serializer_class = CourseSerializer

    def get_queryset(self) -> QuerySet[Course]:
        return course_list_visible(user=self.request.user).prefetch_related("instructors")

    @extend_schema(
        request=CourseInputSerializer,
        responses={201: CourseSerializer},
        summary="Create a draft course (teachers)",
    )
    def create(self, request: Request) -> Response:
        course = services.course_create(owner=request.user, **self.validated(CourseInputSerializer))
        return self.render(course, status.HTTP_201_CREATED)

    @extend_schema(request=CourseInputSerializer, responses=CourseSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        course = self.get_object()
        fields = self.validated(CourseInputSerializer, partial=partial)
        return self.render(services.course_update(course=course, **fields))

    @extend_schema(request=CourseInputSerializer, responses=CourseSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None}, summary="Archive the course (it leaves the catalogue)")
    def destroy(self, request: Request, pk: str) -> Response:
        services.course_archive(course=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=CourseSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self.render(services.course_publish(course=self.get_object()))

    @extend_schema(request=None, responses=CourseSerializer)
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, pk: str) -> Response:
        return self.render(services.course_unpublish(course=self.get_object()))

    def _course_for_instructor_change(self) -> Course:
        """404 when the caller cannot see the course, 403 unless they own it (or are staff)."""
        course = self.get_object()
        if not course_instructors_manageable_by(course=course, user=self.request.user):
            raise exceptions.PermissionDenied(
                "Only the course's owner or staff choose its instructors."
            )
        return course

    @extend_schema(
        request=CourseInstructorInputSerializer,
        responses={201: CourseSerializer},
        summary="Add a co-instructor, by username or user id (the owner or staff)",
    )
    @action(detail=True, methods=["post"], url_path="instructors")
    def instructors(self, request: Request, pk: str) -> Response:
        course = self._course_for_instructor_change()
        data = self.validated(CourseInstructorInputSerializer)
        users = get_user_model().objects.all()
        user = (
            users.filter(username=data["username"]).first()
            if "username" in data
            else users.filter(pk=data["user"]).first()
        )
        if user is None:
            raise exceptions.ValidationError({"username": ["There is no account with this name."]})
        services.course_instructor_add(course=course, user=user)
        return self.render(course, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Remove a co-instructor (the owner or staff); idempotent",
    )
    @action(detail=True, methods=["delete"], url_path=r"instructors/(?P<user_id>[0-9]{1,18})")
    def instructor_remove(self, request: Request, pk: str, user_id: str) -> Response:
        course = self._course_for_instructor_change()
        user = get_user_model().objects.filter(pk=int(user_id)).first()
        if user is not None:
            services.course_instructor_remove(course=course, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Modules ----------------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[_filter_parameter("course", "modules")]))
class ModuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ContentViewSet):
    queryset = Module.objects.none()
    serializer_class = ModuleSerializer

    def get_queryset(self) -> QuerySet[Module]:
        modules = module_list_visible(user=self.request.user)
        course_id = query_id(self.request, "course") if self.action == "list" else None
        return modules if course_id is None else modules.filter(course_id=course_id)

    @extend_schema(request=ModuleCreateSerializer, responses={201: ModuleSerializer})
    def create(self, request: Request) -> Response:
        fields = self.validated(ModuleCreateSerializer)
        self.require_editor(fields["course"])
        return self.render(services.module_create(**fields), status.HTTP_201_CREATED)

    @extend_schema(request=ModuleUpdateSerializer, responses=ModuleSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        module = self.get_object()
        fields = self.validated(ModuleUpdateSerializer, partial=partial)
        return self.render(services.module_update(module=module, **fields))

    @extend_schema(request=ModuleUpdateSerializer, responses=ModuleSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.module_delete(module=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ModuleReorderSerializer,
        responses=ModuleSerializer(many=True),
        summary="Put a course's modules in the given order",
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def reorder(self, request: Request) -> Response:
        fields = self.validated(ModuleReorderSerializer)
        self.require_editor(fields["course"])
        return self.render_many(
            services.module_reorder(course=fields["course"], module_ids=fields["order"])
        )


# Lessons ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        parameters=[_filter_parameter("course", "lessons"), _filter_parameter("module", "lessons")]
    )
)
class LessonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ContentViewSet):
    queryset = Lesson.objects.none()
    serializer_class = LessonSerializer

    def get_queryset(self) -> QuerySet[Lesson]:
        lessons = lesson_list_visible(user=self.request.user)
        if self.action != "list":
            return lessons
        course_id = query_id(self.request, "course")
        module_id = query_id(self.request, "module")
        if course_id is not None:
            lessons = lessons.filter(module__course_id=course_id)
        if module_id is not None:
            lessons = lessons.filter(module_id=module_id)
        return lessons

    @extend_schema(request=LessonCreateSerializer, responses={201: LessonSerializer})
    def create(self, request: Request) -> Response:
        fields = self.validated(LessonCreateSerializer)
        self.require_editor(fields["module"])
        return self.render(services.lesson_create(**fields), status.HTTP_201_CREATED)

    @extend_schema(request=LessonUpdateSerializer, responses=LessonSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        lesson = self.get_object()
        fields = self.validated(LessonUpdateSerializer, partial=partial)
        return self.render(services.lesson_update(lesson=lesson, **fields))

    @extend_schema(request=LessonUpdateSerializer, responses=LessonSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.lesson_delete(lesson=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=LessonReorderSerializer,
        responses=LessonSerializer(many=True),
        summary="Put a module's lessons in the given order",
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def reorder(self, request: Request) -> Response:
        fields = self.validated(LessonReorderSerializer)
        self.require_editor(fields["module"])
        return self.render_many(
            services.lesson_reorder(module=fields["module"], lesson_ids=fields["order"])
        )


# Blocks -----------------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[_filter_parameter("lesson", "blocks")]))
class LessonBlockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ContentViewSet):
    queryset = LessonBlock.objects.none()
    serializer_class = LessonBlockSerializer

    def get_queryset(self) -> QuerySet[LessonBlock]:
        blocks = lesson_block_list_visible(user=self.request.user)
        lesson_id = query_id(self.request, "lesson") if self.action == "list" else None
        return blocks if lesson_id is None else blocks.filter(lesson_id=lesson_id)

    @extend_schema(
        request=LessonBlockCreateSerializer,
        responses={201: LessonBlockSerializer},
        summary="Append a block; media arrive as multipart/form-data",
    )
    def create(self, request: Request) -> Response:
        fields = self.validated(LessonBlockCreateSerializer)
        self.require_editor(fields["lesson"])
        return self.render(services.lesson_block_create(**fields), status.HTTP_201_CREATED)

    @extend_schema(request=LessonBlockUpdateSerializer, responses=LessonBlockSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        block = self.get_object()
        fields = self.validated(LessonBlockUpdateSerializer, partial=partial)
        return self.render(services.lesson_block_update(block=block, **fields))

    @extend_schema(request=LessonBlockUpdateSerializer, responses=LessonBlockSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.lesson_block_delete(block=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=LessonBlockReorderSerializer,
        responses=LessonBlockSerializer(many=True),
        summary="Put a lesson's blocks in the given order",
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def reorder(self, request: Request) -> Response:
        fields = self.validated(LessonBlockReorderSerializer)
        self.require_editor(fields["lesson"])
        return self.render_many(
            services.lesson_block_reorder(lesson=fields["lesson"], block_ids=fields["order"])
        )


# Skills -----------------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[_filter_parameter("course", "skills")]))
class SkillViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ContentViewSet):
    queryset = Skill.objects.none()
    serializer_class = SkillSerializer

    def get_queryset(self) -> QuerySet[Skill]:
        skills = skill_list_visible(user=self.request.user)
        course_id = query_id(self.request, "course") if self.action == "list" else None
        return skills if course_id is None else skills.filter(course_id=course_id)

    @extend_schema(request=SkillCreateSerializer, responses={201: SkillSerializer})
    def create(self, request: Request) -> Response:
        fields = self.validated(SkillCreateSerializer)
        self.require_editor(fields["course"])
        return self.render(services.skill_create(**fields), status.HTTP_201_CREATED)

    @extend_schema(request=SkillUpdateSerializer, responses=SkillSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        skill = self.get_object()
        fields = self.validated(SkillUpdateSerializer, partial=partial)
        return self.render(services.skill_update(skill=skill, **fields))

    @extend_schema(request=SkillUpdateSerializer, responses=SkillSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.skill_delete(skill=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=SkillPrerequisiteInputSerializer,
        responses={201: SkillSerializer},
        summary="Add a prerequisite (refused with 400 when it would close a cycle)",
    )
    @action(detail=True, methods=["post"])
    def prerequisites(self, request: Request, pk: str) -> Response:
        skill = self.get_object()
        fields = self.validated(SkillPrerequisiteInputSerializer)
        services.skill_prerequisite_add(skill=skill, requires=fields["requires"])
        return self.render(self.get_object(), status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[OpenApiParameter("requires_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        summary="Remove a prerequisite",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=f"prerequisites/(?P<requires_id>{ID_PATTERN})",
        url_name="prerequisite-detail",
    )
    def prerequisite_detail(self, request: Request, pk: str, requires_id: str) -> Response:
        skill = self.get_object()
        requires = (
            skill_list_visible(user=request.user)
            .filter(pk=parse_id(requires_id, name="requires_id"))
            .first()
        )
        if requires is None:
            raise exceptions.NotFound("The skill has no such prerequisite.")
        services.skill_prerequisite_remove(skill=skill, requires=requires)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Exercises --------------------------------------------------------------------------------------

EXERCISE_READ = PolymorphicProxySerializer(
    component_name="ExerciseRead",
    serializers=[ExerciseLearnerSerializer, ExerciseEditorSerializer],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[_filter_parameter("course", "exercises")],
        responses=PolymorphicProxySerializer(
            component_name="ExerciseRead",
            serializers=[ExerciseLearnerSerializer, ExerciseEditorSerializer],
            resource_type_field_name=None,
            many=True,
        ),
        summary="Exercises; answers only in the courses the caller edits",
    ),
    retrieve=extend_schema(
        responses=EXERCISE_READ,
        summary="One exercise; answers only for the course's editors",
    ),
)
class ExerciseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ContentViewSet):
    queryset = Exercise.objects.none()
    serializer_class = ExerciseLearnerSerializer

    def get_queryset(self) -> QuerySet[Exercise]:
        exercises = exercise_list_visible(user=self.request.user)
        course_id = query_id(self.request, "course") if self.action == "list" else None
        return exercises if course_id is None else exercises.filter(course_id=course_id)

    def _edited_course_ids(self) -> set[int]:
        return set(course_list_editable(user=self.request.user).values_list("pk", flat=True))

    def _represent(self, exercise: Exercise, edited: set[int]) -> dict[str, Any]:
        # Answers, feedback and explanations go only to those who edit the course.
        shape = (
            ExerciseEditorSerializer if exercise.course_id in edited else ExerciseLearnerSerializer
        )
        return shape(exercise, context=self.get_serializer_context()).data

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        edited = self._edited_course_ids()
        return self.get_paginated_response(
            [self._represent(exercise, edited) for exercise in page or []]
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._represent(self.get_object(), self._edited_course_ids()))

    def _saved(self, exercise: Exercise, status_code: int = status.HTTP_200_OK) -> Response:
        refreshed = self.get_queryset().get(pk=exercise.pk)
        return Response(
            ExerciseEditorSerializer(refreshed, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(request=ExerciseCreateSerializer, responses={201: ExerciseEditorSerializer})
    def create(self, request: Request) -> Response:
        fields = self.validated(ExerciseCreateSerializer)
        self.require_editor(fields["course"])
        fields["choices"] = [services.ChoiceData(**choice) for choice in fields.get("choices", [])]
        return self._saved(services.exercise_create(**fields), status.HTTP_201_CREATED)

    @extend_schema(request=ExerciseUpdateSerializer, responses=ExerciseEditorSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        exercise = self.get_object()
        fields = self.validated(ExerciseUpdateSerializer, partial=partial)
        if "choices" in fields:
            fields["choices"] = [services.ChoiceData(**choice) for choice in fields["choices"]]
        return self._saved(services.exercise_update(exercise=exercise, **fields))

    @extend_schema(request=ExerciseUpdateSerializer, responses=ExerciseEditorSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.exercise_delete(exercise=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses=HintRevealSerializer,
        parameters=[OpenApiParameter("position", OpenApiTypes.INT, OpenApiParameter.PATH)],
        summary="One hint, for the course's editors (1 is the first)",
        description="Learners reveal hints with POST /exercises/{id}/hints/next, which records "
        "them: the hints counted in an attempt are the ones the server saw revealed.",
    )
    @action(detail=True, methods=["get"], url_path="hints/(?P<position>[0-9]{1,9})")
    def hint(self, request: Request, pk: str, position: str) -> Response:
        exercise = self.get_object()
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Log in to see the hints.")
        if not course_is_editable_by(course=exercise.course, user=request.user):
            raise exceptions.PermissionDenied(
                f"Reveal hints with POST /api/v1/exercises/{exercise.pk}/hints/next: "
                "a learner's hints are recorded and counted."
            )
        hint = exercise_hint_get(exercise=exercise, position=int(position))
        if hint is None:
            raise exceptions.NotFound("The exercise has no hint at this position.")
        return Response(
            HintRevealSerializer(
                {
                    "position": hint.position,
                    "text": hint.text,
                    "hint_count": len(exercise.hints.all()),
                }
            ).data
        )
