"""Pages that show the adaptive loop's data: the student dashboard and the class dashboard.

They live here, in the highest app, because they combine courses, learner activity and the
knowledge state (ARCHITECTURE.md: a lower app's page that shows a higher app's data).
"""

from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adaptive import selectors
from adaptive.display import NOT_STARTED, status_label
from adaptive.display_store import (
    NextStep,
    class_shown,
    learner_course_ids,
    learner_next_steps,
    learner_shown,
)
from adaptive.models import TrainingRun
from adaptive.selectors import training_run_list
from adaptive.services.retraining import training_run_request
from adaptive.tasks import learner_replan_queue
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


@dataclass(frozen=True)
class PanelSkill:
    skill_id: int
    name: str
    status: str
    label: str
    percent: int | None
    estimate_percent: int | None
    estimate_from: str
    caveat: str


@dataclass(frozen=True)
class LearnerPanel:
    course_slug: str
    course_title: str
    updating: bool
    skills: list[PanelSkill]
    steps: list[NextStep]

    @property
    def any_started(self) -> bool:
        return any(skill.percent is not None for skill in self.skills)


def learner_panel_build(*, user_id: int, course_id: int, slug: str, title: str) -> LearnerPanel:
    """One course's panel: every skill as adaptive.display shows it, and the next steps."""
    shown = learner_shown(user_id=user_id, course_id=course_id)
    if shown.needs_replan:
        learner_replan_queue(user_id=user_id, course_id=course_id)
    return LearnerPanel(
        course_slug=slug,
        course_title=title,
        updating=shown.updating,
        skills=[
            PanelSkill(
                skill_id=item.skill_id,
                name=item.name,
                status=item.status,
                label=status_label(item.status, _),
                percent=item.percent,
                estimate_percent=item.estimate_percent,
                estimate_from=", ".join(item.estimate_from),
                caveat=", ".join(item.caveat),
            )
            for item in shown.skills
        ],
        steps=learner_next_steps(user_id=user_id, course_id=course_id, gettext=_),
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """My courses and progress; per course my shown mastery and next steps; recent activity."""
    progress = progress_for_user(user=request.user)
    user_id = cast(int, request.user.pk)
    panels = [
        (
            item,
            learner_panel_build(
                user_id=user_id,
                course_id=item.course_id,
                slug=item.course_slug,
                title=item.course_title,
            ),
        )
        for item in progress
    ]
    return render(
        request,
        "adaptive/dashboard.html",
        {
            "progress": progress,
            "panels": panels,
            "attempts": attempt_recent_for_user(user=request.user, limit=8),
            "events": lesson_event_recent_for_user(user=request.user, limit=8),
        },
    )


@login_required
def learner_panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The caller's own panel for one course they are enrolled in (polled by htmx)."""
    course = get_object_or_404(Course, slug=slug)
    user_id = cast(int, request.user.pk)
    if not learner_course_ids(user_id=user_id, course_id=course.pk):
        raise Http404(_("You are not enrolled in this course."))
    panel = learner_panel_build(
        user_id=user_id, course_id=course.pk, slug=course.slug, title=course.title
    )
    response = render(request, "adaptive/partials/learner_panel.html", {"panel": panel})
    response["Cache-Control"] = "no-store"
    return response


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


@dataclass(frozen=True)
class HeatmapCell:
    status: str
    label: str
    percent: int | None
    caveat: str

    @property
    def bucket(self) -> int:
        return min((self.percent or 0) // 25, 4)


@dataclass(frozen=True)
class ClassHeatmap:
    skills: list[tuple[int, str]]
    is_empty: bool


def class_heatmap_build(
    *, course_id: int, skills: list[tuple[int, str]], learners: list
) -> tuple[ClassHeatmap, list[tuple[object, list[HeatmapCell]]]]:
    """Heatmap cells: each learner's shown mastery (adaptive.display), as on their dashboard."""
    shown = class_shown(course_id=course_id, user_ids=[learner.pk for learner in learners])
    rows = []
    for learner in learners:
        by_skill = shown.get(learner.pk, {})
        cells = []
        for skill_id, _name in skills:
            item = by_skill.get(skill_id)
            status = item.status if item else NOT_STARTED
            caveat = ""
            if item and item.caveat:
                caveat = _("prerequisite not mastered yet: %(skills)s") % {
                    "skills": ", ".join(item.caveat)
                }
            cells.append(
                HeatmapCell(
                    status=status,
                    label=status_label(status, _),
                    percent=item.percent if item else None,
                    caveat=caveat,
                )
            )
        rows.append((learner, cells))
    started = any(cell.percent is not None for _learner, cells in rows for cell in cells)
    return ClassHeatmap(skills=skills, is_empty=not started), rows


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
    heatmap, heatmap_rows = class_heatmap_build(
        course_id=course.pk, skills=skills, learners=[e.user for e in enrollments]
    )
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
    """Queue a retrain of the course's model on the ml worker (one open run at a time)."""
    course = _course_for_teacher(request, slug)
    if training_run_list(course=course).filter(status__in=TRAINING_RUN_OPEN).exists():
        messages.info(request, _("A retrain of this course is already queued or running."))
    else:
        try:
            training_run_request(
                course=course, trigger=TrainingRun.Trigger.MANUAL, requested_by=request.user
            )
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
