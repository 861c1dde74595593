"""API conventions shared by every app: pagination and one error body shape."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DATABASE_UNAVAILABLE, database_unavailable_message, retry_after_seconds
from config.parsers import RequestTooLarge
from config.validation import small_count
from courses.exceptions import ApplicationError


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int | None:
        # DRF silently ignores a malformed page_size; it is refused like any other bad parameter.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and raw != "":
            size = small_count(raw, name=self.page_size_query_param, maximum=self.max_page_size)
            if size == 0:
                raise DjangoValidationError({self.page_size_query_param: ["Must be at least 1."]})
        return super().get_page_size(request)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable. Try again soon."
    default_code = "service_unavailable"


def _flatten(detail: Any) -> Any:
    """DRF ErrorDetail trees become plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(fields, list) and fields:
        return _message(fields[0])
    return str(fields)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error answers {"error": {"code", "message", "fields"}}."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, ApplicationError):
        exc = exceptions.ValidationError({"non_field_errors": [exc.message]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(
            "The request body (not counting uploaded files) is larger than the limit of "
            f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "The request could not be processed.")
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        exc = ServiceUnavailable(database_unavailable_message())

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields if isinstance(fields, list) else [fields]}
        body = {"code": "invalid", "message": _message(fields), "fields": fields}
    else:
        detail = getattr(exc, "detail", str(exc))
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "code": code if isinstance(code, str) else "error",
            "message": str(detail),
            "fields": {},
        }
    if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        body["code"] = "method_not_allowed"
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(retry_after_seconds())
    response.data = {"error": body}
    return response
