"""Project-level views: the landing page, the health check and the favicon."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static

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


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and crawlers ask for /favicon.ico whatever a page's <link rel=icon> says.

    The URL is looked up per request: with hashed static names (production) the manifest
    exists only after collectstatic, not when the URLconf is imported.
    """
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
