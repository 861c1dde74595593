"""Admin for the model registry: versions (read-mostly) and training runs (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from adaptive.exceptions import ApplicationError
from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.model_registry import model_version_activate


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "course", "kind", "status", "auc_display", "created_at", "activated_at")
    list_filter = ("status", "kind", "course")
    search_fields = ("course__slug", "course__title", "rejection_reason")
    date_hierarchy = "created_at"
    list_select_related = ("course",)
    actions = ("activate_selected",)
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
    )

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
        self.message_user(request, f"Model version {version.pk} is active.", messages.SUCCESS)


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "course", "kind", "trigger", "status", "outcome", "created_at")
    list_filter = ("status", "trigger", "kind", "course")
    list_select_related = ("course", "model_version")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in TrainingRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TrainingRun | None = None) -> bool:
        return False
