"""Django admin for accounts and activity; the attempt and lesson-event logs are read-only."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from courses.exceptions import ApplicationError
from learners import teaching_services
from learners.models import (
    Attempt,
    Enrollment,
    HintReveal,
    LessonEvent,
    TeacherInvitation,
    TeacherRequest,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "role", "preferred_language", "is_staff", "date_joined"]
    list_filter = ["role", "preferred_language", "is_staff", "is_superuser", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    date_hierarchy = "date_joined"
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Pathwise"), {"fields": ["role", "preferred_language"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        (_("Pathwise"), {"fields": ["email", "role", "preferred_language"]}),
    ]
    show_full_result_count = False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "status", "enrolled_at", "completed_at"]
    list_filter = ["status", "course"]
    search_fields = ["user__username", "user__email", "course__title", "course__slug"]
    list_select_related = ["user", "course"]
    autocomplete_fields = ["user", "course"]
    date_hierarchy = "enrolled_at"
    show_full_result_count = False


class AppendOnlyAdmin(admin.ModelAdmin):
    """The platform only appends to these logs: admin shows them and changes nothing.

    No date_hierarchy: on a log of millions of rows its DISTINCT over truncated dates costs a
    full scan per page view; the `created_at` list filter (today, past 7 days...) does not.
    """

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(Attempt)
class AttemptAdmin(AppendOnlyAdmin):
    list_display = [
        "id",
        "user",
        "exercise",
        "course",
        "is_correct",
        "is_revealed",
        "hints_used",
        "duration_ms",
        "created_at",
    ]
    list_filter = ["is_correct", "is_revealed", "created_at", "course"]
    search_fields = ["user__username", "exercise__title", "exercise__external_id", "external_id"]
    list_select_related = ["user", "exercise", "course"]


@admin.register(HintReveal)
class HintRevealAdmin(AppendOnlyAdmin):
    list_display = ["id", "user", "exercise", "position", "created_at"]
    list_filter = ["created_at", "exercise__course"]
    search_fields = ["user__username", "exercise__title"]
    list_select_related = ["user", "exercise"]


@admin.register(LessonEvent)
class LessonEventAdmin(AppendOnlyAdmin):
    list_display = ["id", "user", "verb", "lesson", "block", "position_seconds", "created_at"]
    list_filter = ["verb", "created_at", "lesson__module__course"]
    search_fields = ["user__username", "lesson__title"]
    list_select_related = ["user", "lesson", "block"]


def _decide_requests(modeladmin, request: HttpRequest, queryset, service, done: str) -> None:
    decided = 0
    for item in queryset.select_related("user"):
        try:
            service(request=item, by=request.user)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{item.user}: {error.message}", messages.WARNING)
        else:
            decided += 1
    modeladmin.message_user(request, done % {"count": decided}, messages.SUCCESS)


@admin.register(TeacherRequest)
class TeacherRequestAdmin(admin.ModelAdmin):
    """Requests to teach; decided with the actions (the same services as the staff page)."""

    list_display = ["user", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["user__username", "user__email", "motivation"]
    list_select_related = ["user", "decided_by"]
    readonly_fields = ["user", "motivation", "status", "created_at", "decided_at", "decided_by"]
    actions = ["approve", "decline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Approve: make them teachers"))
    def approve(self, request: HttpRequest, queryset) -> None:
        _decide_requests(
            self,
            request,
            queryset,
            teaching_services.teacher_request_approve,
            _("%(count)d request(s) approved."),
        )

    @admin.action(description=_("Decline the selected requests"))
    def decline(self, request: HttpRequest, queryset) -> None:
        _decide_requests(
            self,
            request,
            queryset,
            teaching_services.teacher_request_decline,
            _("%(count)d request(s) declined."),
        )


@admin.register(TeacherInvitation)
class TeacherInvitationAdmin(admin.ModelAdmin):
    """Invitations are sent from the staff page (/staff/teaching/), which mails the link."""

    list_display = ["email", "invited_by", "created_at", "expires_at", "accepted_by", "accepted_at"]
    search_fields = ["email"]
    list_select_related = ["invited_by", "accepted_by"]
    readonly_fields = [
        "email",
        "token_hash",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
