"""Pages that show the adaptive loop's data: the student dashboard and the class dashboard.

They live here, in the highest app, because they combine courses, learner activity and the
knowledge state (ARCHITECTURE.md: a lower app's page that shows a higher app's data).
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from adaptive import selectors
from adaptive.class_selectors import (
    LEARNER_FILTERS,
    LEARNER_SORTS,
    STRUGGLING_MAX_CORRECT_RATE,
    STRUGGLING_MIN_ATTEMPTS,
    exercise_difficulty_rows,
    learner_summary_list,
    skill_distribution_for_course,
)
from adaptive.display import STATUSES, ShownSkill, status_label
from adaptive.display_store import (
    NextStep,
    learner_course_ids,
    learner_next_steps,
    learner_shown,
)
from adaptive.exceptions import (
    TaskQueueUnavailableError,
    TrainingRunOpenError,
    TrainingRunRateError,
)
from adaptive.models import ClassSummary, ModelVersion, TrainingRun
from adaptive.selectors import training_run_list
from adaptive.services.class_summary import class_summary_ensure
from adaptive.services.retraining import training_run_request
from adaptive.serving import serving_status
from adaptive.tasks import learner_replan_queue
from courses.exceptions import ApplicationError
from courses.models import Course
from courses.selectors import course_is_editable_by
from learners.models import Enrollment
from learners.selectors import (
    attempt_list_for_learner_in_course,
    attempt_recent_for_user,
    course_progress,
    lesson_event_recent_for_learner_in_course,
    lesson_event_recent_for_user,
    progress_for_user,
)


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


def panel_skills(skills: list[ShownSkill]) -> list[PanelSkill]:
    """Shown skills in the panel's words (the learner's panel and the teacher's learner page)."""
    return [
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
        for item in skills
    ]


def learner_panel_build(*, user_id: int, course_id: int, slug: str, title: str) -> LearnerPanel:
    """One course's panel: every skill as adaptive.display shows it, and the next steps."""
    shown = learner_shown(user_id=user_id, course_id=course_id)
    if shown.needs_replan:
        learner_replan_queue(user_id=user_id, course_id=course_id)
    return LearnerPanel(
        course_slug=slug,
        course_title=title,
        updating=shown.updating,
        skills=panel_skills(shown.skills),
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
    # The date written under the axis at this point ("" where it would repeat its neighbour).
    axis_label: str = ""


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 560, 200, 36


def auc_chart_points(rows: list[selectors.ModelVersionRow]) -> list[ChartPoint]:
    """Model versions with an AUC as points of a line chart (AUC 0.5 .. 1.0 on the y axis)."""
    measured = [row for row in rows if row.auc is not None]
    if not measured:
        return []
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(len(measured) - 1, 1)
    # At most about six dates fit under the axis; always the first and the last.
    every = max(1, round(len(measured) / 6))
    points = []
    previous_day = ""
    for index, row in enumerate(measured):
        auc = float(row.auc or 0.0)
        share = min(max((auc - 0.5) / 0.5, 0.0), 1.0)
        day = date_format(timezone.localtime(row.created_at), "SHORT_DATE_FORMAT")
        shown = (index % every == 0 or index == len(measured) - 1) and day != previous_day
        if shown:
            previous_day = day
        points.append(
            ChartPoint(
                x=round(CHART_PAD + index * step, 1),
                y=round(CHART_HEIGHT - CHART_PAD - share * (CHART_HEIGHT - 2 * CHART_PAD), 1),
                label=date_format(timezone.localtime(row.created_at), "SHORT_DATETIME_FORMAT"),
                auc=auc,
                axis_label=day if shown else "",
            )
        )
    return points


@dataclass(frozen=True)
class VersionDisplay:
    """A model version in the teacher's words."""

    id: int
    kind: str
    status: str
    status_label: str
    auc: float | None
    created_at: datetime
    device_label: str


def device_label(device: str) -> str:
    """What a worker trained on, as a teacher reads it."""
    if device.startswith(("gpu", "cuda")):
        return _("GPU")
    if device.startswith("cpu"):
        return _("CPU")
    return ""


def _version_displays(rows: list[selectors.ModelVersionRow]) -> list[VersionDisplay]:
    kinds = dict(ModelVersion.Kind.choices)
    statuses = {
        ModelVersion.Status.TRAINING: _("Training"),
        ModelVersion.Status.CANDIDATE: _("Being checked"),
        ModelVersion.Status.ACTIVE: _("In use"),
        ModelVersion.Status.REJECTED: _("Not used: no better than the current model"),
        ModelVersion.Status.RETIRED: _("Replaced by a newer model"),
    }
    return [
        VersionDisplay(
            id=row.id,
            kind=str(kinds.get(row.kind, row.kind)),
            status=row.status,
            status_label=str(statuses.get(row.status, row.status)),
            auc=row.auc,
            created_at=row.created_at,
            device_label=device_label(row.device),
        )
        for row in rows
    ]


# Learners a training run needs: each of the three learner groups (SPLIT_FRACTIONS in
# adaptive.services.model_export: 80/10/10) needs at least one learner with answers.
MIN_TRAINING_LEARNERS = 10


def training_error_sentence(error: str) -> str:
    """A failed run's error as a sentence that says what to do (never the raw exception)."""
    kind, _sep, detail = error.partition(":")
    if kind == "TrainingDataError":
        if "epochs" in detail:
            return _("The number of training epochs must be at least 1.")
        return _(
            "Not enough answers to train a model yet: it needs at least %(count)d learners "
            "with attempts, with both right and wrong answers. Retrain once more learners "
            "have answered exercises."
        ) % {"count": MIN_TRAINING_LEARNERS}
    if kind == "DeviceUnavailableError":
        return _(
            "The worker was asked to train on a GPU but has none. Set the training device "
            "to CPU or auto and retrain."
        )
    if kind == "ModelArtifactError":
        return _(
            "A saved model could not be read back (missing or changed file). Retrain to "
            "make a new one."
        )
    return _(
        "Training failed on the worker. Retrain; if it fails again, the run's log in the "
        "Django admin (Training runs) has the details for the site's staff."
    )


STAGE_LABELS = {
    "export": gettext_lazy("Reading the course's answers"),
    "train": gettext_lazy("Training"),
    "gate": gettext_lazy("Checking the new model on learners it has not seen"),
    "done": gettext_lazy("Finished"),
}
OUTCOME_LABELS = {
    "promoted": gettext_lazy("The new model predicts better and is now in use."),
    "rejected": gettext_lazy(
        "The new model did not predict better, so the current one stays in use."
    ),
    "failed": gettext_lazy("The run failed."),
}


@dataclass(frozen=True)
class RunDisplay:
    """The latest training run in the teacher's words."""

    run: TrainingRun
    is_open: bool
    stage_label: str
    outcome_label: str
    error_sentence: str
    device_label: str


def _run_display(run: TrainingRun | None) -> RunDisplay | None:
    if run is None:
        return None
    stage = str((run.progress or {}).get("stage", ""))
    version = run.model_version
    return RunDisplay(
        run=run,
        is_open=run.status in TRAINING_RUN_OPEN,
        stage_label=str(STAGE_LABELS.get(stage, "")),
        outcome_label=str(OUTCOME_LABELS.get(run.outcome, "")),
        error_sentence=training_error_sentence(run.error) if run.error else "",
        device_label=device_label(version.device) if version is not None else "",
    )


def _models_context(course: Course) -> dict[str, object]:
    """What the live part of the class dashboard shows: versions, AUC chart, latest run."""
    rows = selectors.model_version_rows_for_course(course_id=course.pk)
    points = auc_chart_points(rows)
    run = _run_display(training_run_list(course=course).select_related("model_version").first())
    return {
        "course": course,
        "versions": _version_displays(rows),
        "chart_points": points,
        "chart_polyline": " ".join(f"{p.x},{p.y}" for p in points),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "chart_pad": CHART_PAD,
        "chart_bottom": CHART_HEIGHT - CHART_PAD,
        "chart_right": CHART_WIDTH - CHART_PAD,
        "training_run": run.run if run else None,
        "run": run,
        "last_device": next((device_label(row.device) for row in reversed(rows) if row.device), ""),
        # An active artifact that fails verification is never served (adaptive.serving): say
        # which version serves instead, as the admin does.
        "serving": serving_status(course_id=course.pk),
    }


TRAINING_RUN_OPEN = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


def _course_for_teacher(request: HttpRequest, slug: str) -> Course:
    course = get_object_or_404(Course, slug=slug)
    if not course_is_editable_by(course=course, user=request.user):
        raise PermissionDenied(_("Only the course's teachers see its class dashboard."))
    return course


SKILLS_PER_PAGE = 20
LEARNERS_PER_PAGE = 25
EXERCISES_PER_PAGE = 10
ATTEMPTS_PER_PAGE = 20
SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class LearnerListQuery:
    """The learner list's search, filter and order, parsed from the query string."""

    search: str
    show: str
    sort: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> "LearnerListQuery":
        show = request.GET.get("show", "all")
        sort = request.GET.get("sort", "name")
        return cls(
            search=request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH],
            show=show if show in LEARNER_FILTERS else "all",
            sort=sort if sort in LEARNER_SORTS else "name",
        )


LEARNER_FILTER_LABELS = {
    "all": gettext_lazy("All learners"),
    "struggling": gettext_lazy("Struggling"),
    "not_started": gettext_lazy("No answer yet"),
    "mastered_some": gettext_lazy("Mastered at least one skill"),
}
LEARNER_SORT_LABELS = {
    "name": gettext_lazy("Name"),
    "progress": gettext_lazy("Progress, highest first"),
    "progress_low": gettext_lazy("Progress, lowest first"),
    "correct_low": gettext_lazy("Right answers, lowest rate first"),
    "correct": gettext_lazy("Right answers, highest rate first"),
    "mastered": gettext_lazy("Skills mastered, most first"),
    "active": gettext_lazy("Last activity, most recent first"),
    "inactive": gettext_lazy("Last activity, longest ago first"),
}


class KnownCountPaginator(Paginator):
    """A paginator told its count: the whole list's count is kept in ClassSummary, so paging
    10,000 learners does not count them on every page view."""

    def __init__(self, object_list: Any, per_page: int, *, count: int | None) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        if self._known_count is not None:
            return self._known_count
        return super().count


def _learner_list_context(
    request: HttpRequest, course: Course, summary: ClassSummary | None
) -> dict[str, object]:
    query = LearnerListQuery.from_request(request)
    rows = learner_summary_list(
        course_id=course.pk, search=query.search, show=query.show, sort=query.sort
    )
    whole_list = not query.search and query.show == "all"
    count = summary.learners if summary and summary.computed_at and whole_list else None
    paginator = KnownCountPaginator(rows, LEARNERS_PER_PAGE, count=count)
    return {
        "learner_page": paginator.get_page(request.GET.get("page")),
        # Each row links to the learner's page: one reverse for the page, not one per row.
        "learner_url_prefix": reverse("adaptive:class_learners", args=[course.slug]),
        "learner_query": query,
        "learner_filters": list(LEARNER_FILTER_LABELS.items()),
        "learner_sorts": list(LEARNER_SORT_LABELS.items()),
        "struggling_min_attempts": STRUGGLING_MIN_ATTEMPTS,
        "struggling_max_percent": int(STRUGGLING_MAX_CORRECT_RATE * 100),
    }


def _summary_context(course: Course) -> dict[str, object]:
    freshness = class_summary_ensure(course_id=course.pk)
    summary = freshness.summary
    return {
        "summary": summary,
        "summary_is_current": freshness.is_current,
        "summary_is_queued": freshness.is_queued,
        "summary_ready": bool(summary and summary.computed_at),
        "status_labels": [(status, status_label(status, _)) for status in STATUSES],
    }


@login_required
def class_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Skill overview (weakest first), the learner list's first page, exercise difficulty
    (hardest first) and model versions: a few queries whatever the number of learners."""
    course = _course_for_teacher(request, slug)
    context = _summary_context(course)
    summary = cast(ClassSummary | None, context["summary"])
    skills = skill_distribution_for_course(course_id=course.pk)
    exercises = exercise_difficulty_rows(summary.exercise_stats if summary else [])
    return render(
        request,
        "adaptive/class_dashboard.html",
        {
            **context,
            "skill_page": Paginator(skills, SKILLS_PER_PAGE).get_page(
                request.GET.get("skills_page")
            ),
            "skills_any_started": any(item.started for item in skills),
            "exercise_page": Paginator(exercises, EXERCISES_PER_PAGE).get_page(
                request.GET.get("exercises_page")
            ),
            **_learner_list_context(request, course, summary),
            **_models_context(course),
        },
    )


@login_required
def class_learners(request: HttpRequest, slug: str) -> HttpResponse:
    """The course's learners, paged, searchable by username, name or e-mail, sorted, filtered."""
    course = _course_for_teacher(request, slug)
    context = _summary_context(course)
    summary = cast(ClassSummary | None, context["summary"])
    return render(
        request,
        "adaptive/class_learners.html",
        {"course": course, **context, **_learner_list_context(request, course, summary)},
    )


@login_required
def class_learner(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """One learner of the course as its teachers see them: shown mastery (as on the learner's
    own dashboard), path with reasons, progress, recent attempts (paged), lesson activity."""
    course = _course_for_teacher(request, slug)
    enrollment = (
        Enrollment.objects.filter(course=course, user_id=user_id).select_related("user").first()
    )
    if enrollment is None:
        raise Http404(_("This learner is not enrolled in this course."))
    learner = enrollment.user
    shown = learner_shown(user_id=learner.pk, course_id=course.pk)
    attempts = Paginator(
        attempt_list_for_learner_in_course(user_id=learner.pk, course_id=course.pk),
        ATTEMPTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "adaptive/class_learner.html",
        {
            "course": course,
            "learner": learner,
            "enrollment": enrollment,
            "progress": course_progress(user=learner, enrollment=enrollment),
            "shown_updating": shown.updating,
            "skills": panel_skills(shown.skills),
            "any_started": any(item.percent is not None for item in shown.skills),
            "steps": learner_next_steps(user_id=learner.pk, course_id=course.pk, gettext=_),
            "attempt_page": attempts,
            "events": lesson_event_recent_for_learner_in_course(
                user_id=learner.pk, course_id=course.pk
            ),
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
    """The live part of the class dashboard (versions, chart, latest run), polled by htmx
    while a run is open, so that a new version appears without a reload."""
    course = _course_for_teacher(request, slug)
    return render(request, "adaptive/partials/training_run.html", _models_context(course))
