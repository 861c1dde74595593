"""Project-level views: the landing page and the health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from courses.selectors import course_list_visible


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the catalogue of published courses and where to go next."""
    courses = course_list_visible(user=request.user).order_by("title")[:50]
    return render(request, "home.html", {"courses": courses})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for container health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
