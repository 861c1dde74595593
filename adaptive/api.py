"""REST endpoints of the adaptive loop: recommendation, paths, mastery, models and retraining."""

from typing import Any, cast

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adaptive.display_store import class_shown, learner_course_ids, learner_shown, shown_raw
from adaptive.exceptions import (
    TaskQueueUnavailableError,
    TrainingRunOpenError,
    TrainingRunRateError,
)
from adaptive.models import TrainingRun
from adaptive.selectors import (
    course_learner_ids,
    course_roster,
    learning_path_list_for_user,
    model_version_list,
)
from adaptive.serializers import (
    LearningPathSerializer,
    MasteryMatrixSerializer,
    ModelVersionSerializer,
    RecommendRequestSerializer,
    RecommendResponseSerializer,
    RetrainRequestSerializer,
    ShownMasterySerializer,
    TrainingRunSerializer,
)
from adaptive.services.recommendation import recommendation_get
from adaptive.services.retraining import training_run_request
from config.api import StandardPagination
from courses.api import query_id
from courses.models import Course, Lesson
from courses.selectors import course_is_editable_by, course_list_visible
from learners.models import User
from learners.selectors import enrollment_get_active

COURSE_FILTER = OpenApiParameter(
    "course", int, description="Only this course (id).", required=False
)


def _course_filter(request: Request) -> int | None:
    return query_id(request, "course")


def _editable_course(request: Request, pk: int) -> Course:
    """The course if the caller may see it (else 404) and edit it (else 403)."""
    course = get_object_or_404(course_list_visible(user=request.user), pk=pk)
    if not course_is_editable_by(course=course, user=request.user):
        raise exceptions.PermissionDenied("Only the course's owner, instructors or staff can.")
    return course


class RecommendView(APIView):
    """The next lesson for a learner and the reason (students ask for themselves only)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=RecommendRequestSerializer, responses=RecommendResponseSerializer)
    def post(self, request: Request) -> Response:
        payload = RecommendRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        visible = course_list_visible(user=request.user)
        if data.get("last_lesson"):
            lesson = get_object_or_404(
                Lesson.objects.select_related("module__course").filter(module__course__in=visible),
                pk=data["last_lesson"],
            )
            course = lesson.module.course
        else:
            lesson = None
            course = get_object_or_404(visible, pk=data["course"])
        if data["user_id"] == request.user.pk:
            learner = request.user
        elif course_is_editable_by(course=course, user=request.user):
            learner = get_object_or_404(User, pk=data["user_id"])
        else:
            raise exceptions.PermissionDenied("You may ask for your own recommendation only.")
        if enrollment_get_active(user=learner, course=course) is None:
            raise exceptions.ValidationError(
                {"user_id": ["The learner is not enrolled in this course."]}
            )
        recommendation = recommendation_get(user=learner, course=course, last_lesson=lesson)
        return Response(RecommendResponseSerializer(recommendation).data)


class MyLearningPathView(generics.GenericAPIView):
    """The caller's learning path in each enrolled course, each step with its reason."""

    permission_classes = (IsAuthenticated,)
    serializer_class = LearningPathSerializer

    @extend_schema(parameters=[COURSE_FILTER], responses=LearningPathSerializer(many=True))
    def get(self, request: Request) -> Response:
        paths = learning_path_list_for_user(user=request.user, course_id=_course_filter(request))
        page = self.paginate_queryset(paths)
        return self.get_paginated_response(LearningPathSerializer(page, many=True).data)


class MyMasteryView(generics.GenericAPIView):
    """The caller's shown mastery of every skill of each enrolled course (adaptive.display).

    The same values, statuses and rounding as the dashboard's bars; untouched skills are "not
    started" (with the model's estimate beside them only as an estimate).
    """

    permission_classes = (IsAuthenticated,)
    serializer_class = ShownMasterySerializer

    @extend_schema(parameters=[COURSE_FILTER], responses=ShownMasterySerializer(many=True))
    def get(self, request: Request) -> Response:
        user_id = cast(int, request.user.pk)
        rows: list[dict] = []
        for course_id in learner_course_ids(user_id=user_id, course_id=_course_filter(request)):
            shown = learner_shown(user_id=user_id, course_id=course_id)
            raw = shown_raw(user_id=user_id, course_id=course_id)
            rows.extend(
                {
                    "course": course_id,
                    "skill": {"id": item.skill_id, "name": item.name},
                    "status": item.status,
                    "percent": item.percent,
                    "probability": round(item.planning_value, 4),
                    "estimate_percent": item.estimate_percent,
                    "estimate_from": list(item.estimate_from),
                    "caveat": list(item.caveat),
                    "model_probability": raw.get(item.skill_id),
                    "updating": shown.updating,
                }
                for item in shown.skills
            )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ShownMasterySerializer(page, many=True).data)


class CourseMasteryView(APIView):
    """Learners x skills shown mastery of a course (class heatmap data), paginated by learner.

    `probabilities` are what each learner is shown (adaptive.display; null: not started), with
    `statuses` beside them, so teachers and learners read the same values.
    """

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=MasteryMatrixSerializer)
    def get(self, request: Request, pk: int) -> Response:
        course = _editable_course(request, pk)
        paginator = StandardPagination()
        learner_ids = paginator.paginate_queryset(course_learner_ids(course=course), request, self)
        matrix = course_roster(course=course, learner_ids=list(learner_ids or []))
        shown = class_shown(course_id=course.pk, user_ids=[pk for pk, _name in matrix.learners])
        cells = [
            [shown[user_id].get(skill_id) for skill_id, _name in matrix.skills]
            for user_id, _name in matrix.learners
        ]
        body = {
            "skills": [{"id": pk, "name": name} for pk, name in matrix.skills],
            "learners": [{"id": pk, "username": name} for pk, name in matrix.learners],
            "probabilities": [
                [None if c is None or c.value is None else round(c.value, 4) for c in row]
                for row in cells
            ],
            "statuses": [[c.status if c else "not_started" for c in row] for row in cells],
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
        }
        return Response(MasteryMatrixSerializer(body).data)


class CourseModelsView(generics.GenericAPIView):
    """Model versions serving a course (its own and the global ones), with their metrics."""

    permission_classes = (IsAuthenticated,)
    serializer_class = ModelVersionSerializer

    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        course = _editable_course(request, pk)
        versions = list(model_version_list(course=course)) + list(model_version_list(course=None))
        versions.sort(key=lambda version: (version.created_at, version.pk), reverse=True)
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(ModelVersionSerializer(page, many=True).data)


class CourseRetrainView(APIView):
    """Queue a retrain of the course's model; its progress is at /training-runs/{id}."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=RetrainRequestSerializer,
        responses={
            202: TrainingRunSerializer,
            409: OpenApiResponse(description="The course has a queued or running run."),
            429: OpenApiResponse(description="Too many retrain requests; see Retry-After."),
            503: OpenApiResponse(description="The task queue is unavailable; try again."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        course = _editable_course(request, pk)
        payload = RetrainRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            run = training_run_request(
                course=course,
                trigger=TrainingRun.Trigger.MANUAL,
                requested_by=request.user,
                kind=payload.validated_data["kind"],
                epochs=payload.validated_data.get("epochs"),
            )
        except TrainingRunOpenError as error:
            raise RetrainConflict(error.message) from error
        except TrainingRunRateError as error:
            raise exceptions.Throttled(wait=error.retry_after, detail=error.message) from error
        except TaskQueueUnavailableError as error:
            raise TaskQueueUnavailable(error.message) from error
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RetrainConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class TaskQueueUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


class TrainingRunView(APIView):
    """A training run's status, progress (epoch, metrics) and timings."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=TrainingRunSerializer)
    def get(self, request: Request, pk: int) -> Response:
        run = get_object_or_404(TrainingRun.objects.select_related("course"), pk=pk)
        allowed: Any = (
            request.user.is_staff
            if run.course is None
            else course_is_editable_by(course=run.course, user=request.user)
        )
        if not allowed:
            # Learners and other teachers learn nothing, not even that the run exists.
            raise exceptions.NotFound()
        return Response(TrainingRunSerializer(run).data)
