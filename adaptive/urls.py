"""Student dashboard and class dashboard routes."""

from django.urls import path

from adaptive import views

app_name = "adaptive"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("studio/courses/<slug:slug>/class/", views.class_dashboard, name="class_dashboard"),
]
