"""Accounts, course page, lesson player and the player's htmx endpoints."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from learners import teaching, views

app_name = "learners"

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/teach/", teaching.teach_request, name="teach_request"),
    path(
        "accounts/teach/invitation/<str:token>/",
        teaching.teach_invitation,
        name="teach_invitation",
    ),
    path("staff/teaching/", teaching.staff_teaching, name="staff_teaching"),
    path(
        "staff/teaching/requests/<int:request_id>/",
        teaching.staff_teaching_decide,
        name="staff_teaching_decide",
    ),
    path("staff/teaching/invite/", teaching.staff_teaching_invite, name="staff_teaching_invite"),
    path(
        "staff/teaching/invitations/<int:invitation_id>/revoke/",
        teaching.staff_teaching_revoke,
        name="staff_teaching_revoke",
    ),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/password_change_form.html",
            success_url=reverse_lazy("learners:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("accounts/language/", views.language_set, name="language"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="registration/password_reset_form.html",
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
            success_url=reverse_lazy("learners:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_confirm.html",
            success_url=reverse_lazy("learners:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("courses/<slug:slug>/enrol/", views.enrol, name="enrol"),
    path("courses/<slug:slug>/leave/", views.leave, name="leave"),
    path("courses/<slug:slug>/lessons/<int:lesson_id>/", views.lesson_player, name="lesson"),
    path(
        "courses/<slug:slug>/lessons/<int:lesson_id>/complete/",
        views.lesson_complete,
        name="lesson_complete",
    ),
    path("lessons/<int:lesson_id>/events/", views.lesson_event, name="lesson_event"),
    path("exercises/<int:exercise_id>/attempt/", views.attempt_submit, name="attempt"),
    path("exercises/<int:exercise_id>/hint/", views.hint_reveal, name="hint"),
    path("exercises/<int:exercise_id>/solution/", views.solution_reveal, name="solution"),
]
