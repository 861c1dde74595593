"""Pages that show the adaptive loop's data: the student dashboard and the class dashboard.

They live here, in the highest app, because they combine courses, learner activity and the
knowledge state (ARCHITECTURE.md: a lower app's page that shows a higher app's data).
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adaptive import selectors
from adaptive.exceptions import (
    TaskQueueUnavailableError,
    TrainingRunOpenError,
    TrainingRunRateError,
)
from adaptive.models import TrainingRun
from adaptive.selectors import training_run_list
from adaptive.services.retraining import training_run_request
from courses.exceptions import ApplicationError
from courses.models import Course, Skill
from courses.selectors import course_is_editable_by
from learners.selectors import (
    attempt_recent_for_user,
    enrollment_list_for_course,
    exercise_attempt_stats_for_course,
    learner_attempt_stats_for_course,
    lesson_event_recent_for_user,
    progress_for_user,
)

STRUGGLING_MIN_ATTEMPTS = 3
STRUGGLING_MAX_CORRECT_RATE = 0.5


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """My courses and progress, my learning path, mastery per skill, recent activity."""
    progress = progress_for_user(user=request.user)
    course_ids = [item.course_id for item in progress]
    paths = [
        (item, selectors.learning_path_steps_for_user(user=request.user, course_id=item.course_id))
        for item in progress
    ]
    return render(
        request,
        "adaptive/dashboard.html",
        {
            "progress": progress,
            "paths": paths,
            "has_path": any(steps for _item, steps in paths),
            "mastery": selectors.skill_mastery_rows_for_user(
                user=request.user, course_ids=course_ids
            ),
            "attempts": attempt_recent_for_user(user=request.user, limit=8),
            "events": lesson_event_recent_for_user(user=request.user, limit=8),
        },
    )


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str
    auc: float


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 560, 200, 36


def auc_chart_points(rows: list[selectors.ModelVersionRow]) -> list[ChartPoint]:
    """Model versions with an AUC as points of a line chart (AUC 0.5 .. 1.0 on the y axis)."""
    measured = [row for row in rows if row.auc is not None]
    if not measured:
        return []
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(len(measured) - 1, 1)
    points = []
    for index, row in enumerate(measured):
        auc = float(row.auc or 0.0)
        share = min(max((auc - 0.5) / 0.5, 0.0), 1.0)
        points.append(
            ChartPoint(
                x=round(CHART_PAD + index * step, 1),
                y=round(CHART_HEIGHT - CHART_PAD - share * (CHART_HEIGHT - 2 * CHART_PAD), 1),
                label=row.created_at.strftime("%Y-%m-%d"),
                auc=auc,
            )
        )
    return points


TRAINING_RUN_OPEN = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


def _course_for_teacher(request: HttpRequest, slug: str) -> Course:
    course = get_object_or_404(Course, slug=slug)
    if not course_is_editable_by(course=course, user=request.user):
        raise PermissionDenied(_("Only the course's teachers see its class dashboard."))
    return course


@login_required
def class_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Learners, mastery heatmap, struggling learners, exercise difficulty, model versions."""
    course = _course_for_teacher(request, slug)
    enrollments = enrollment_list_for_course(course=course)
    skills = list(Skill.objects.filter(course=course).order_by("name").values_list("pk", "name"))
    heatmap = selectors.mastery_heatmap(
        skills=skills, user_ids=[enrollment.user_id for enrollment in enrollments]
    )
    heatmap_rows = [
        (enrollment.user, [heatmap.cells.get(enrollment.user_id, {}).get(pk) for pk, _n in skills])
        for enrollment in enrollments
    ]
    learner_stats = learner_attempt_stats_for_course(course=course)
    struggling = [
        item
        for item in learner_stats
        if item.attempts >= STRUGGLING_MIN_ATTEMPTS
        and item.correct_rate < STRUGGLING_MAX_CORRECT_RATE
    ]
    versions = selectors.model_version_rows_for_course(course_id=course.pk)
    points = auc_chart_points(versions)
    return render(
        request,
        "adaptive/class_dashboard.html",
        {
            "course": course,
            "enrollments": enrollments,
            "heatmap": heatmap,
            "heatmap_rows": heatmap_rows,
            "struggling": struggling,
            "struggling_min_attempts": STRUGGLING_MIN_ATTEMPTS,
            "struggling_max_percent": int(STRUGGLING_MAX_CORRECT_RATE * 100),
            "exercise_stats": exercise_attempt_stats_for_course(course=course),
            "versions": versions,
            "chart_points": points,
            "chart_polyline": " ".join(f"{p.x},{p.y}" for p in points),
            "chart_width": CHART_WIDTH,
            "chart_height": CHART_HEIGHT,
            "chart_pad": CHART_PAD,
            "training_run": training_run_list(course=course).first(),
        },
    )


@login_required
@require_POST
def class_retrain(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a retrain of the course's model on the ml worker (one open run at a time).

    A refused request shows the dashboard again with the reason and its status: 409 while a run
    is open, 429 past the course's request budget (with Retry-After), 503 when the queue is away.
    """
    course = _course_for_teacher(request, slug)
    try:
        training_run_request(
            course=course, trigger=TrainingRun.Trigger.MANUAL, requested_by=request.user
        )
    except (TrainingRunOpenError, TrainingRunRateError, TaskQueueUnavailableError) as error:
        messages.error(request, error.message)
        response = class_dashboard(request, slug=course.slug)
        if isinstance(error, TrainingRunRateError):
            response.status_code = 429
            response["Retry-After"] = str(error.retry_after)
        else:
            response.status_code = 409 if isinstance(error, TrainingRunOpenError) else 503
        return response
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Retrain queued: progress appears below."))
    return redirect("adaptive:class_dashboard", slug=course.slug)


@login_required
def class_training_run(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest training run of the course, polled by htmx while it is open."""
    course = _course_for_teacher(request, slug)
    return render(
        request,
        "adaptive/partials/training_run.html",
        {"course": course, "training_run": training_run_list(course=course).first()},
    )
