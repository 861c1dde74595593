"""OpenAPI generation: every operation also documents the API's one error body shape."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`.")
    message = serializers.CharField(help_text="A human-readable sentence.")
    # DRF's metaclass pops declared fields, so this does not shadow Serializer.fields at run time.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        help_text="Messages per input field (`non_field_errors` for the whole body): a list of "
        "messages, or for a list or nested input the same shape keyed by position or field "
        '(e.g. `{"order": {"2": ["A valid integer is required."]}}`).',
    )


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class PathwiseAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses each operation can give."""

    def _error_codes(self) -> list[str]:
        has_body = self.method in ("POST", "PUT", "PATCH")
        paginated = self._is_list_view() and self._get_paginator() is not None
        codes = []
        # A body, a filter or a page size that config.validation refuses.
        if has_body or paginated or self._get_filter_parameters() or self._has_query_parameters():
            codes.append("400")
        permissions = getattr(self.view, "permission_classes", ())
        if not all(permission is AllowAny for permission in permissions):
            codes += ["401", "403"]
        # An unknown id, or a page past the last one.
        if "{" in self.path or paginated or has_body:
            codes.append("404")
        if has_body:
            codes += ["413", "415"]
        # Every operation is rate-limited (login attempts: django-axes), and answers 503 with
        # Retry-After while the database is unreachable (config.errors).
        codes += ["429", "503"]
        return codes

    def _has_query_parameters(self) -> bool:
        parameters = self.get_override_parameters()
        return any(getattr(parameter, "location", "") == "query" for parameter in parameters)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ErrorResponseSerializer, code, direction=direction
                )
        return responses


def email_may_be_blank(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: what the generated schema says too narrowly.

    - An e-mail address is optional on every account (blank=True), so "" is valid wherever the
      schema says `format: email`.
    - A polymorphic read without a discriminator (ExerciseRead: the learner's shape or the
      editor's, which has every field of the other) matches *any* of its shapes; `oneOf` would
      call an editor's exercise invalid because it also matches the learner's shape.
    """

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                visit(value)
            # After the children, so that the new alternatives are not visited again.
            if node.get("format") == "email":
                del node["format"]
                node["anyOf"] = [{"format": "email"}, {"maxLength": 0}]
            if "oneOf" in node and "discriminator" not in node:
                node["anyOf"] = node.pop("oneOf")
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result.get("components", {}))
    return result
