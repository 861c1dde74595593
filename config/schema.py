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
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (`non_field_errors` for the whole body).",
    )


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class PathwiseAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses each operation can give."""

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("400")
        permissions = getattr(self.view, "permission_classes", ())
        if not all(permission is AllowAny for permission in permissions):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("413")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ErrorResponseSerializer, code, direction=direction
                )
        return responses
