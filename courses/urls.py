"""Catalogue and teacher studio routes."""

from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("courses/", views.catalogue, name="catalogue"),
    path("studio/", views.studio_home, name="studio_home"),
    path("studio/courses/new/", views.studio_course_create, name="studio_course_create"),
    path("studio/courses/<slug:slug>/", views.studio_course, name="studio_course"),
    path(
        "studio/courses/<slug:slug>/status/",
        views.studio_course_status,
        name="studio_course_status",
    ),
    path(
        "studio/courses/<slug:slug>/instructors/",
        views.studio_course_instructors,
        name="studio_course_instructors",
    ),
    path("studio/courses/<slug:slug>/reorder/", views.studio_reorder, name="studio_reorder"),
    path(
        "studio/courses/<slug:slug>/modules/new/",
        views.studio_module_create,
        name="studio_module_create",
    ),
    path(
        "studio/courses/<slug:slug>/modules/<int:module_id>/",
        views.studio_module_edit,
        name="studio_module_edit",
    ),
    path(
        "studio/courses/<slug:slug>/modules/<int:module_id>/lessons/new/",
        views.studio_lesson_create,
        name="studio_lesson_create",
    ),
    path(
        "studio/courses/<slug:slug>/lessons/<int:lesson_id>/",
        views.studio_lesson,
        name="studio_lesson",
    ),
    path(
        "studio/courses/<slug:slug>/lessons/<int:lesson_id>/blocks/new/",
        views.studio_block_create,
        name="studio_block_create",
    ),
    path(
        "studio/courses/<slug:slug>/blocks/<int:block_id>/",
        views.studio_block_edit,
        name="studio_block_edit",
    ),
    path("studio/courses/<slug:slug>/exercises/", views.studio_exercises, name="studio_exercises"),
    path(
        "studio/courses/<slug:slug>/exercises/new/",
        views.studio_exercise_create,
        name="studio_exercise_create",
    ),
    path(
        "studio/courses/<slug:slug>/exercises/<int:exercise_id>/",
        views.studio_exercise_edit,
        name="studio_exercise_edit",
    ),
    path("studio/courses/<slug:slug>/skills/", views.studio_skills, name="studio_skills"),
]
