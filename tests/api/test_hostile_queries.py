"""Reproductions of issue 10's API 500s: hostile query parameters and ids are 400 JSON errors,
hints are for learners and editors only, and whatever escapes a view is still the JSON body."""

import json
import sys

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from config import errors
from tests.api.conftest import World, database_snapshot, error_of

API = "/api/v1"

FILTERS = [
    ("modules", "course"),
    ("lessons", "module"),
    ("lessons", "course"),
    ("blocks", "lesson"),
    ("skills", "course"),
    ("exercises", "course"),
    ("attempts", "course"),
    ("me/mastery", "course"),
    ("me/learning-path", "course"),
]
HOSTILE = {
    "superscript-two": "%C2%B2",
    "arabic-indic-three": "%D9%A3",
    "full-width-one": "%EF%BC%91",
    "nul": "%00",
    "huge": "9" * 40,
    "negative": "-1",
    "float": "1.5",
    "long": "a" * 5000,
}


@pytest.mark.parametrize(("path", "name"), FILTERS)
@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_filter_is_a_400_json_error(world: World, path: str, name: str, value) -> None:
    client = world.client("student_a")

    response = client.get(f"{API}/{path}?{name}={value}")

    assert response.status_code == 400, response.content
    assert name in error_of(response)["fields"]


@pytest.mark.parametrize(("path", "name"), FILTERS)
def test_ascii_filter_still_filters(world: World, path: str, name: str) -> None:
    response = world.client("student_a").get(f"{API}/{path}?{name}=1")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "courses/" + "9" * 19,
        "courses/" + "9" * 400,
        "courses/%C2%B2",
        "blocks/" + "9" * 30 + "/resume",
        "training-runs/" + "9" * 30,
        "courses/" + "9" * 30 + "/mastery",
    ],
)
def test_hostile_path_id_is_a_404_json_error(world: World, path: str) -> None:
    response = world.client("owner").get(f"{API}/{path}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("value", [1.5, "1.5", "\u00b2", "9" * 30, 10**30, -1])
def test_body_id_that_is_not_an_id_is_a_400(world: World, value) -> None:
    before = database_snapshot()

    response = world.client("student_a").post(
        f"{API}/attempts", {"exercise": value, "answer": 1}, format="json"
    )

    assert response.status_code == 400
    assert "exercise" in error_of(response)["fields"]
    assert database_snapshot() == before


def test_a_numeric_answer_in_superscript_is_a_400(world: World) -> None:
    from courses.models import Exercise
    from tests.factories import ExerciseFactory

    exercise = ExerciseFactory(
        course=world.published.course, kind=Exercise.Kind.NUMERIC, numeric_answer=2.0
    )
    before = database_snapshot()

    response = world.client("student_a").post(
        f"{API}/attempts", {"exercise": exercise.pk, "answer": "\u00b2"}, format="json"
    )

    assert response.status_code == 400
    assert "ordinary digits" in error_of(response)["message"]
    assert database_snapshot() == before


# Hints -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    # A learner reveals hints with POST exercises/{id}/hints/next, which records and counts them
    # (docs/attempt-policy.md); reading one by number is for the course's editors.
    [("anonymous", 401), ("other_teacher", 403), ("student_a", 403), ("owner", 200)],
)
def test_hints_by_number_are_for_editors(world: World, actor, expected) -> None:
    response = world.client(actor).get(f"{API}/exercises/{world.published.exercise.pk}/hints/1")

    assert response.status_code == expected
    if expected != 200:
        error_of(response)


# Whatever escapes a view -------------------------------------------------------------------------


def test_unknown_path_outside_v1_is_a_json_404(db) -> None:
    response = Client().get("/api/nowhere")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def _handled(path: str, exception: Exception):
    request = RequestFactory().get(path)
    try:
        raise exception
    except Exception:
        # Django calls handler500 from inside its except block: the same here.
        assert sys.exc_info()[1] is exception
        response = errors.server_error(request)
    response.json = lambda: json.loads(response.content)  # as the test client's responses have
    return response


def test_a_crash_under_the_api_is_the_json_error_body(db) -> None:
    response = _handled("/api/v1/courses", RuntimeError("boom"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_a_database_outage_under_the_api_is_a_503_json_with_retry_after(db) -> None:
    response = _handled("/api/v1/courses", OperationalError("connection refused"))

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert error_of(response)["code"] == "service_unavailable"


def test_a_database_outage_on_a_page_is_a_503_with_retry_after(db) -> None:
    response = _handled("/courses/", OperationalError("connection refused"))

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
