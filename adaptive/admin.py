"""Admin for the model registry: versions (read-mostly) and training runs (read-only).

Every change goes through the services (activation, rollback, retrain requests with their
limits), so the admin cannot do what the API and the dashboard refuse.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from adaptive.exceptions import ApplicationError
from adaptive.models import (
    MASTERY_SKILL_DTYPE,
    LearnerState,
    LearningPath,
    ModelVersion,
    PathRefresh,
    PathRefreshChunk,
    PathStep,
    TrainingRun,
)
from adaptive.selectors import mastery_raw_for_learner
from adaptive.services.model_versions import model_version_activate, model_version_rollback
from adaptive.services.retraining import paths_refresh_request, training_run_request
from adaptive.serving import serving_status
from courses.models import Skill


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "course",
        "kind",
        "status",
        "auc_display",
        "serving_display",
        "created_at",
        "activated_at",
    )
    list_filter = ("status", "kind", "course")
    search_fields = ("course__slug", "course__title", "rejection_reason")
    date_hierarchy = "created_at"
    list_select_related = ("course",)
    actions = ("activate_selected", "rollback_scopes", "retrain_scopes")
    readonly_fields = (
        "course",
        "kind",
        "status",
        "hyperparameters",
        "skill_vocabulary",
        "data_cutoff",
        "counts",
        "metrics",
        "artifact_path",
        "artifact_sha256",
        "device",
        "duration_seconds",
        "rejection_reason",
        "created_at",
        "activated_at",
        "serving_display",
    )

    @admin.display(description="Serving")
    def serving_display(self, version: ModelVersion) -> str:
        """For an active version: whether it really serves, or why a fallback does."""
        if version.status != ModelVersion.Status.ACTIVE:
            return "-"
        if version.course_id is None:
            return "global model"
        status = serving_status(course_id=version.course_id)
        return f"FALLBACK: {status.reason}" if status.fallback else "serving"

    @admin.display(description="AUC", ordering="metrics__auc")
    def auc_display(self, version: ModelVersion) -> str:
        return "-" if version.auc is None else f"{version.auc:.4f}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Versions come from training; a hand-made row would have no artifact behind it.
        return False

    @admin.action(description="Activate the selected version (retires the scope's active one)")
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        try:
            version = model_version_activate(version=queryset.get())
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        paths_refresh_request(course_id=version.course_id)
        self.message_user(
            request,
            f"Model version {version.pk} is active; every path it serves is being refreshed.",
            messages.SUCCESS,
        )

    @admin.action(description="Roll back the scope of the selected versions to its previous one")
    def rollback_scopes(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        for course in {version.course for version in queryset.select_related("course")}:
            try:
                version = model_version_rollback(course=course)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            paths_refresh_request(course_id=version.course_id)
            self.message_user(
                request,
                f"Model version {version.pk} serves {course or 'the global scope'} again.",
                messages.SUCCESS,
            )

    @admin.action(description="Retrain the scope of the selected versions now (on the ml worker)")
    def retrain_scopes(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        scopes = {(version.course, version.kind) for version in queryset.select_related("course")}
        for course, kind in sorted(scopes, key=lambda pair: (pair[0] is not None, str(pair[0]))):
            try:
                run = training_run_request(
                    course=course,
                    kind=kind,
                    requested_by=request.user,
                    trigger=TrainingRun.Trigger.MANUAL,
                )
            except ApplicationError as error:
                # The same limits as the API and the dashboard: one open run, a request budget.
                self.message_user(request, error.message, messages.ERROR)
                continue
            self.message_user(
                request,
                f"Queued training run {run.pk} for {course or 'the global model'}.",
                messages.SUCCESS,
            )


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "course",
        "kind",
        "trigger",
        "status",
        "outcome",
        "attempt",
        "heartbeat_at",
        "created_at",
    )
    list_filter = ("status", "trigger", "kind", "course")
    list_select_related = ("course", "model_version")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in TrainingRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TrainingRun | None = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Knowledge state is written by the adaptive loop only; the admin shows it."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LearnerState)
class LearnerStateAdmin(ReadOnlyAdmin):
    """One row per learner and course: the model's state and its raw mastery vector."""

    list_display = (
        "user",
        "course",
        "model_version",
        "skills_count",
        "attempts_count",
        "last_attempt_id",
        "updated_at",
    )
    list_filter = ("course", "model_version")
    search_fields = ("user__username",)
    list_select_related = ("user", "course", "model_version")
    exclude = ("state", "mastery", "mastery_skill_ids")
    readonly_fields = ("mastery_list",)
    raw_id_fields = ("user", "course", "model_version")

    @admin.display(description=_("skills with an estimate"))
    def skills_count(self, state: LearnerState) -> int:
        return len(state.mastery_skill_ids or b"") // MASTERY_SKILL_DTYPE.itemsize

    @admin.display(description=_("raw mastery (the model's estimate, not what is shown)"))
    def mastery_list(self, state: LearnerState) -> str:
        raw = mastery_raw_for_learner(user_id=state.user_id, course_id=state.course_id)
        names = dict(Skill.objects.filter(pk__in=list(raw)).values_list("pk", "name"))
        rows = sorted(
            (names.get(skill_id) or gettext("deleted skill %(id)s") % {"id": skill_id}, value)
            for skill_id, value in raw.items()
        )
        if not rows:
            return gettext("none stored yet")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}: {}</li>", ((name, f"{v:.4f}") for name, v in rows)),
        )


class PathStepInline(admin.TabularInline):
    model = PathStep
    extra = 0
    fields = ("position", "kind", "skill", "lesson", "exercise", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LearningPath)
class LearningPathAdmin(ReadOnlyAdmin):
    list_display = ("user", "course", "model_version", "generated_at")
    list_filter = ("course", "model_version")
    search_fields = ("user__username", "course__slug")
    list_select_related = ("user", "course", "model_version")
    raw_id_fields = ("user", "course", "model_version")
    inlines = (PathStepInline,)


class PathRefreshChunkInline(admin.TabularInline):
    model = PathRefreshChunk
    extra = 0
    fields = ("index", "first_user_id", "last_user_id", "done_at", "outcome", "learners", "rows")
    readonly_fields = fields
    can_delete = False
    ordering = ("done_at", "index")  # the chunks not done yet first

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PathRefresh)
class PathRefreshAdmin(ReadOnlyAdmin):
    """A refresh fanned out over the default workers, with its chunks (progress while running)."""

    list_display = (
        "id",
        "course",
        "model_version",
        "status",
        "chunks_display",
        "learners_display",
        "dispatches",
        "started_at",
        "progressed_at",
        "finished_at",
    )
    list_filter = ("status", "course")
    list_select_related = ("course", "model_version")
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in PathRefresh._meta.fields]
    inlines = (PathRefreshChunkInline,)

    @admin.display(description=_("Chunks done"))
    def chunks_display(self, refresh: PathRefresh) -> str:
        return f"{refresh.chunks_done} / {refresh.chunks_total}"

    @admin.display(description=_("Learners refreshed"))
    def learners_display(self, refresh: PathRefresh) -> str:
        return f"{refresh.learners} / {refresh.learners_total}"
