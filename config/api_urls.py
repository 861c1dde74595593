"""Routes of the REST API, mounted at /api/v1/ (no trailing slashes)."""

from typing import Any

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from adaptive.api import (
    CourseMasteryView,
    CourseModelsView,
    CourseRetrainView,
    MyLearningPathView,
    MyMasteryView,
    RecommendView,
    TrainingRunView,
)
from courses.api import (
    CourseViewSet,
    ExerciseViewSet,
    LessonBlockViewSet,
    LessonViewSet,
    ModuleViewSet,
    SkillViewSet,
)
from learners.api import (
    AttemptViewSet,
    AuthTokenView,
    EnrollmentViewSet,
    ExerciseStateView,
    HintRevealView,
    LessonEventViewSet,
    MeView,
    MyProgressView,
    SolutionRevealView,
    VideoResumeView,
)


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Answers every unknown path under the API with the error shape instead of an HTML page."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def dispatch_not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound("There is no such endpoint.")

    get = post = put = patch = delete = head = options = dispatch_not_found


router = SimpleRouter(trailing_slash=False)
router.register("courses", CourseViewSet, basename="course")
router.register("modules", ModuleViewSet, basename="module")
router.register("lessons", LessonViewSet, basename="lesson")
router.register("blocks", LessonBlockViewSet, basename="block")
router.register("skills", SkillViewSet, basename="skill")
router.register("exercises", ExerciseViewSet, basename="exercise")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
router.register("attempts", AttemptViewSet, basename="attempt")
router.register("lesson-events", LessonEventViewSet, basename="lesson-event")

urlpatterns = [
    path("auth/token", AuthTokenView.as_view(), name="auth-token"),
    path("me", MeView.as_view(), name="me"),
    path("me/progress", MyProgressView.as_view(), name="me-progress"),
    path("exercises/<int:pk>/state", ExerciseStateView.as_view(), name="exercise-state"),
    path("exercises/<int:pk>/solution", SolutionRevealView.as_view(), name="exercise-solution"),
    path("exercises/<int:pk>/hints/next", HintRevealView.as_view(), name="exercise-hint-next"),
    path("blocks/<int:pk>/resume", VideoResumeView.as_view(), name="block-resume"),
    path("recommend", RecommendView.as_view(), name="recommend"),
    path("me/learning-path", MyLearningPathView.as_view(), name="me-learning-path"),
    path("me/mastery", MyMasteryView.as_view(), name="me-mastery"),
    path("courses/<int:pk>/mastery", CourseMasteryView.as_view(), name="course-mastery"),
    path("courses/<int:pk>/models", CourseModelsView.as_view(), name="course-models"),
    path("courses/<int:pk>/retrain", CourseRetrainView.as_view(), name="course-retrain"),
    path("training-runs/<int:pk>", TrainingRunView.as_view(), name="training-run"),
    *router.urls,
    # Last: any other path under /api/v1/ answers 404 in the API's error shape.
    re_path(r"^.*$", NotFoundView.as_view(), name="api-not-found"),
]
