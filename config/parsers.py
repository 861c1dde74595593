"""Request parsers that bound the body before reading it.

Kept apart from config.api because DRF imports these while rest_framework.views is still loading.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json

# Our bodies nest two or three levels; 64 leaves room for any honest client and keeps every walk
# over the parsed value (serializers, JSON columns) far from Python's recursion limit.
MAX_JSON_DEPTH = 64


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH."""


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit`, walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_loads_bounded(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads without NaN/Infinity and with a bounded depth.

    Raises ValueError (JSONTooDeep for depth) for every document refused, never RecursionError.
    """
    if isinstance(text, bytes):
        text = text.decode()  # UnicodeDecodeError is a ValueError: refused like bad JSON
    try:
        value = json.loads(text, parse_constant=json.strict_constant)
    except RecursionError as error:
        raise JSONTooDeep(f"nested deeper than {max_depth} levels.") from error
    if _depth_exceeds(value, max_depth):
        raise JSONTooDeep(f"nested deeper than {max_depth} levels.")
    return value


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
            return json_loads_bounded(body.decode(encoding))
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error


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
