"""Error answers outside the API views: JSON under /api/, the error pages elsewhere.

Django calls these handlers (config.urls handler400...handler500) for whatever escapes a view or
a middleware, so a crash or a database outage under /api/ still answers the API's JSON error
body, never an HTML page. A database that cannot be reached is a 503 with Retry-After (the client
should retry; nothing was written), on the web pages too.
"""

import sys
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"
# Errors that mean "the database is not reachable right now", not "this request is wrong".
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def retry_after_seconds() -> int:
    return int(getattr(settings, "PATHWISE_RETRY_AFTER_SECONDS", 10))


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's one error shape (config.api.exception_handler builds the same)."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _json(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def database_unavailable_message() -> str:
    return _("The service is briefly unavailable (its database cannot be reached). Try again soon.")


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api(request):
        # Not str(exception): a DisallowedHost message would describe our configuration.
        return _json(400, "bad_request", _("The request could not be processed."))
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api(request):
        message = str(exception) or _("You do not have permission to perform this action.")
        return _json(403, "permission_denied", message)
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api(request):
        return _json(404, "not_found", _("There is no such endpoint."))
    return defaults.page_not_found(request, exception, **kwargs)


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    # Django calls this while handling the exception, so sys.exc_info() names it.
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_UNAVAILABLE):
        if is_api(request):
            response: HttpResponse = _json(
                503, "service_unavailable", database_unavailable_message()
            )
        else:
            response = HttpResponse(
                database_unavailable_message(), status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = str(retry_after_seconds())
        return response
    if is_api(request):
        return _json(500, "server_error", _("An unexpected error occurred; it has been logged."))
    return defaults.server_error(request, **kwargs)
