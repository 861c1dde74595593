"""Request parsers that bound the body before reading it.

Kept apart from config.api because DRF imports these while rest_framework.views is still loading.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _declared_length(parser_context: Mapping[str, Any] | None) -> int:
    request = (parser_context or {}).get("request")
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except (TypeError, ValueError):
        return 0


def _refuse_beyond(limit: int, size: int) -> None:
    if size > limit:
        raise RequestTooLarge(f"The request body is {size} bytes; the limit is {limit} bytes.")


class BoundedJSONParser(parsers.JSONParser):
    """JSON capped at DATA_UPLOAD_MAX_MEMORY_SIZE.

    DRF reads the body stream itself, so Django's own cap (checked in HttpRequest.body) never
    applies to JSON; without this a client could make the server parse any amount of it.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        _refuse_beyond(limit, _declared_length(parser_context))
        # A chunked body declares no length, so the read itself is bounded too.
        body = stream.read(limit + 1) if stream is not None else b""
        _refuse_beyond(limit, len(body))
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(body.decode(encoding), parse_constant=json.strict_constant)
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from error


class BoundedFormParser(parsers.FormParser):
    """URL-encoded forms capped like JSON bodies."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        _refuse_beyond(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, _declared_length(parser_context))
        return super().parse(stream, media_type, parser_context)


class BoundedMultiPartParser(parsers.MultiPartParser):
    """Uploads capped at the largest allowed file plus the ordinary body allowance.

    Django caps the non-file fields of a multipart body itself (RequestDataTooBig); each file's
    own limit is checked by courses.validators.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.PATHWISE_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        _refuse_beyond(limit, _declared_length(parser_context))
        return super().parse(stream, media_type, parser_context)
