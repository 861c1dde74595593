"""OpenAPI: the schema validates without a warning, lists every endpoint, and is served."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

EXPECTED_PATHS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/me": {"get", "patch"},
    "/api/v1/me/progress": {"get"},
    "/api/v1/courses": {"get", "post"},
    "/api/v1/courses/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/courses/{id}/publish": {"post"},
    "/api/v1/courses/{id}/unpublish": {"post"},
    "/api/v1/modules": {"get", "post"},
    "/api/v1/modules/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/modules/reorder": {"post"},
    "/api/v1/lessons": {"get", "post"},
    "/api/v1/lessons/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/lessons/reorder": {"post"},
    "/api/v1/blocks": {"get", "post"},
    "/api/v1/blocks/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/blocks/{id}/resume": {"get"},
    "/api/v1/blocks/reorder": {"post"},
    "/api/v1/skills": {"get", "post"},
    "/api/v1/skills/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/skills/{id}/prerequisites": {"post"},
    "/api/v1/skills/{id}/prerequisites/{requires_id}": {"delete"},
    "/api/v1/exercises": {"get", "post"},
    "/api/v1/exercises/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/exercises/{id}/hints/{position}": {"get"},
    "/api/v1/enrollments": {"get", "post"},
    "/api/v1/enrollments/{id}": {"get"},
    "/api/v1/enrollments/{id}/drop": {"post"},
    "/api/v1/attempts": {"get", "post"},
    "/api/v1/attempts/{id}": {"get"},
    "/api/v1/lesson-events": {"get", "post"},
    "/api/v1/lesson-events/{id}": {"get"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_schema_generation_passes_validation_with_no_warnings(tmp_path: Path) -> None:
    # The command exactly as CI runs it, in a fresh process so no warning is cached.
    schema_file = tmp_path / "schema.yml"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(schema_file),
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Warning" not in completed.stderr
    schema = yaml.safe_load(schema_file.read_text())
    assert schema["openapi"].startswith("3.")


@pytest.fixture
def schema(db, api_client) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_endpoint_and_method_is_documented(schema: dict) -> None:
    documented = {
        path: {method for method in operations if method in HTTP_METHODS}
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
    }

    for path, methods in EXPECTED_PATHS.items():
        assert documented.get(path) == methods, path
    assert documented.keys() >= EXPECTED_PATHS.keys()


def test_learner_exercise_schema_carries_no_answer_fields(schema: dict) -> None:
    learner = schema["components"]["schemas"]["ExerciseLearner"]["properties"]
    editor = schema["components"]["schemas"]["ExerciseEditor"]["properties"]

    assert {"numeric_answer", "accepted_answers", "explanation_md", "hints"} <= set(editor)
    assert not {"numeric_answer", "accepted_answers", "explanation_md", "hints"} & set(learner)


def test_attempt_schema_marks_is_correct_read_only(schema: dict) -> None:
    components = schema["components"]["schemas"]

    assert "is_correct" not in components["AttemptCreateRequest"]["properties"]
    assert components["AttemptResult"]["properties"]["is_correct"]["readOnly"] is True


def test_swagger_ui_is_served(db, api_client) -> None:
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_operations_document_the_error_shape(schema: dict) -> None:
    create_attempt = schema["paths"]["/api/v1/attempts"]["post"]["responses"]
    course_detail = schema["paths"]["/api/v1/courses/{id}"]["get"]["responses"]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}

    assert {"201", "400", "401", "403", "413"} <= set(create_attempt)
    assert create_attempt["400"]["content"]["application/json"]["schema"] == error_ref
    assert course_detail["404"]["content"]["application/json"]["schema"] == error_ref
    assert sorted(schema["components"]["schemas"]["ErrorDetail"]["required"]) == [
        "code",
        "fields",
        "message",
    ]
