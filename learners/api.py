"""REST endpoints of learner activity: tokens, profile, enrolments, attempts, events, progress.

Every list is the caller's own; the one exception is the attempts of a course, which its editors
may list with `?course=`.
"""

from typing import Any, cast

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from courses.api import ID_PATTERN, query_id
from courses.markdown import markdown_inline_render
from courses.models import Course, Exercise
from courses.permissions import LearningAccess, learning_access
from courses.selectors import exercise_list_visible, lesson_block_list_visible
from learners import services
from learners.exceptions import AttemptLimitError
from learners.models import Attempt, Enrollment, LessonEvent, User
from learners.selectors import (
    attempt_list_visible,
    enrollment_get_active,
    enrollment_list_for_user,
    exercise_state_for_user,
    lesson_event_list_for_user,
    progress_for_user,
    video_resume_position,
)
from learners.serializers import (
    AttemptCreateSerializer,
    AttemptResultSerializer,
    AttemptSerializer,
    AuthTokenSerializer,
    CourseProgressSerializer,
    CredentialsSerializer,
    EnrollmentCreateSerializer,
    EnrollmentSerializer,
    ExerciseStateSerializer,
    HintRevealResultSerializer,
    LessonEventCreateSerializer,
    LessonEventSerializer,
    ProfileUpdateSerializer,
    ResumePositionSerializer,
    SolutionSerializer,
    UserSerializer,
)
from learners.services import AttemptResult


def _caller(request: Request) -> User:
    """The signed-in user (every view here but the token one requires authentication)."""
    return cast(User, request.user)


def _validated(
    view: Any, serializer_class: type[serializers.Serializer], **kwargs: Any
) -> dict[str, Any]:
    serializer = serializer_class(
        data=view.request.data, context=view.get_serializer_context(), **kwargs
    )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _require_learning(request: Request, course: Course) -> None:
    """courses.permissions' publication rule: only enrolled learners of a published course
    record attempts and events (an editor's preview of a draft records nothing).

    A published course without enrolment is left to the service, which says "enrol first".
    """
    user = _caller(request)
    is_enrolled = enrollment_get_active(user=user, course=course) is not None
    access = learning_access(course=course, user=user, is_enrolled=is_enrolled)
    if access is not LearningAccess.LEARN and course.status != Course.Status.PUBLISHED:
        raise exceptions.ValidationError(
            {"non_field_errors": ["This course is not open: nothing is recorded in a preview."]}
        )


class AuthTokenView(generics.GenericAPIView):
    """Trade a username and password for an API token (send it as `Authorization: Token ...`)."""

    permission_classes = (AllowAny,)
    # No session: a token request must not need a CSRF token.
    authentication_classes = ()
    serializer_class = CredentialsSerializer
    # Per client address (NUM_PROXIES decides which); axes locks the account+address pair.
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"

    @extend_schema(request=CredentialsSerializer, responses=AuthTokenSerializer)
    def post(self, request: Request) -> Response:
        credentials = _validated(self, CredentialsSerializer)
        user = authenticate(request=request._request, **credentials)
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to log in with the given username and password."]}
            )
        token = services.auth_token_get_or_create(user=user)
        return Response(AuthTokenSerializer({"token": token.key}).data)


class MeView(generics.GenericAPIView):
    """The caller's profile; the role and staff flag are read-only."""

    permission_classes = (IsAuthenticated,)
    serializer_class = UserSerializer

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(_caller(request)).data)

    @extend_schema(request=ProfileUpdateSerializer, responses=UserSerializer)
    def patch(self, request: Request) -> Response:
        fields = _validated(self, ProfileUpdateSerializer, partial=True)
        return Response(
            UserSerializer(services.user_profile_update(user=_caller(request), **fields)).data
        )


class MyProgressView(generics.GenericAPIView):
    """Lessons completed and exercises solved in each course the caller is enrolled in."""

    permission_classes = (IsAuthenticated,)
    serializer_class = CourseProgressSerializer

    @extend_schema(responses=CourseProgressSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(progress_for_user(user=_caller(request)))
        return self.get_paginated_response(CourseProgressSerializer(page, many=True).data)


class VideoResumeView(APIView):
    """Where the caller left a video or audio block."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=ResumePositionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        block = lesson_block_list_visible(user=_caller(request)).filter(pk=pk).first()
        if block is None:
            raise exceptions.NotFound()
        position = video_resume_position(user=_caller(request), block=block)
        return Response(
            ResumePositionSerializer({"block": block.pk, "position_seconds": position}).data
        )


class LearnerViewSet(viewsets.GenericViewSet):
    permission_classes = (IsAuthenticated,)
    lookup_value_regex = ID_PATTERN


class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LearnerViewSet):
    queryset = Enrollment.objects.none()
    serializer_class = EnrollmentSerializer

    def get_queryset(self) -> QuerySet[Enrollment]:
        return enrollment_list_for_user(user=_caller(self.request))

    @extend_schema(
        request=EnrollmentCreateSerializer,
        responses={201: EnrollmentSerializer},
        summary="Enrol the caller in a published course (again after a drop)",
    )
    def create(self, request: Request) -> Response:
        fields = _validated(self, EnrollmentCreateSerializer)
        enrollment = services.enrollment_create(user=_caller(request), **fields)
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=EnrollmentSerializer, summary="Leave the course")
    @action(detail=True, methods=["post"])
    def drop(self, request: Request, pk: str) -> Response:
        enrollment = services.enrollment_drop(enrollment=self.get_object())
        return Response(EnrollmentSerializer(enrollment).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "course",
                int,
                description="Attempts in this course: every learner's when the caller edits "
                "the course, else the caller's own.",
            )
        ],
        summary="The caller's attempts (or a course's, for its editors)",
    ),
    retrieve=extend_schema(summary="One of the caller's attempts"),
)
class AttemptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LearnerViewSet):
    queryset = Attempt.objects.none()
    serializer_class = AttemptSerializer

    def get_queryset(self) -> QuerySet[Attempt]:
        course_id = query_id(self.request, "course") if self.action == "list" else None
        return attempt_list_visible(user=_caller(self.request), course_id=course_id)

    @extend_schema(
        request=AttemptCreateSerializer,
        responses={201: AttemptResultSerializer, 409: None},
        summary="Answer an exercise; the server grades it",
        description="The correct answer and the explanation come back only after a right "
        "answer or the last allowed one (`state.solution_shown`). Once every attempt is used "
        "or the solution was asked for, the exercise answers 409.",
    )
    def create(self, request: Request) -> Response:
        fields = _validated(self, AttemptCreateSerializer)
        fields.pop("hints_used", None)  # counted on the server from the recorded reveals
        _require_learning(request, fields["exercise"].course)
        try:
            result = services.attempt_submit(user=_caller(request), **fields)
        except AttemptLimitError as error:
            raise Conflict(error.message) from error
        return Response(_result_body(result), status=status.HTTP_201_CREATED)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _result_body(result: AttemptResult) -> dict[str, Any]:
    return {
        **AttemptSerializer(result.attempt).data,
        "feedback": result.feedback,
        "feedback_html": result.feedback_html,
        "explanation_html": result.explanation_html,
        "correct_answer": result.correct_answer,
        "state": ExerciseStateSerializer(result.state).data,
    }


def _exercise_visible(request: Request, pk: int) -> Exercise:
    exercise = exercise_list_visible(user=_caller(request)).filter(pk=pk).first()
    if exercise is None:
        raise exceptions.NotFound("There is no such exercise.")
    return exercise


class ExerciseStateView(APIView):
    """The caller's attempts used and left, solved or not, and last answer on one exercise."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=ExerciseStateSerializer)
    def get(self, request: Request, pk: int) -> Response:
        exercise = _exercise_visible(request, pk)
        state = exercise_state_for_user(user=_caller(request), exercise=exercise)
        return Response(ExerciseStateSerializer(state).data)


class SolutionRevealView(APIView):
    """Ask for the solution: recorded as a wrong answer, after which no attempt is graded."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=SolutionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        exercise = _exercise_visible(request, pk)
        _require_learning(request, exercise.course)  # recorded: learners of an open course only
        result = services.solution_reveal(user=_caller(request), exercise=exercise)
        return Response(
            SolutionSerializer(
                {
                    "correct_answer": result.correct_answer,
                    "explanation_html": result.explanation_html,
                    "state": result.state,
                }
            ).data
        )


class HintRevealView(APIView):
    """Reveal the caller's next hint; it is recorded and counted in their next attempts."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={200: HintRevealResultSerializer, 409: None})
    def post(self, request: Request, pk: int) -> Response:
        exercise = _exercise_visible(request, pk)
        _require_learning(request, exercise.course)  # recorded: learners of an open course only
        result = services.hint_reveal_next(user=_caller(request), exercise=exercise)
        if result.hint is None:
            raise Conflict("Every hint of this exercise is already shown.")
        return Response(
            HintRevealResultSerializer(
                {
                    "position": result.hint.position,
                    "text": result.hint.text,
                    "text_html": markdown_inline_render(result.hint.text),
                    "hints_used": result.hints_used,
                    "hint_count": result.hint_total,
                }
            ).data
        )


class LessonEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LearnerViewSet):
    queryset = LessonEvent.objects.none()
    serializer_class = LessonEventSerializer

    def get_queryset(self) -> QuerySet[LessonEvent]:
        return lesson_event_list_for_user(user=_caller(self.request))

    @extend_schema(request=LessonEventCreateSerializer, responses={201: LessonEventSerializer})
    def create(self, request: Request) -> Response:
        fields = _validated(self, LessonEventCreateSerializer)
        _require_learning(request, fields["lesson"].module.course)
        event = services.lesson_event_record(user=_caller(request), **fields)
        return Response(LessonEventSerializer(event).data, status=status.HTTP_201_CREATED)
