"""Student dashboard and class dashboard routes."""

from django.urls import path

from adaptive import views

app_name = "adaptive"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/courses/<slug:slug>/panel/", views.learner_panel, name="learner-panel"),
    path("studio/courses/<slug:slug>/class/", views.class_dashboard, name="class_dashboard"),
    path("studio/courses/<slug:slug>/class/learners/", views.class_learners, name="class_learners"),
    path(
        "studio/courses/<slug:slug>/class/learners/<int:user_id>/",
        views.class_learner,
        name="class_learner",
    ),
    path("studio/courses/<slug:slug>/class/retrain/", views.class_retrain, name="class_retrain"),
    path(
        "studio/courses/<slug:slug>/class/training-run/",
        views.class_training_run,
        name="class_training_run",
    ),
]
