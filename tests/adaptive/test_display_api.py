"""Through the REST API only, as an outside client sees it: enrolment and lesson completion plan
at once, untouched skills are "not started", a right answer never lowers what is shown."""

import pytest
from rest_framework.test import APIClient

from courses.models import SkillPrerequisite
from tests.factories import (
    CourseFactory,
    ExerciseFactory,
    LessonBlockFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = CourseFactory(status="published")
    basics = SkillFactory(course=course, name="Basics")
    advanced = SkillFactory(course=course, name="Advanced")
    SkillPrerequisite.objects.create(skill=advanced, requires=basics)
    module = ModuleFactory(course=course)
    first = LessonFactory(module=module, title="Basics first", position=1)
    first.skills.set([basics])
    for position in range(3):
        exercise = ExerciseFactory(course=course, title=f"Basics {position}")
        exercise.skills.set([basics])
        LessonBlockFactory(
            lesson=first, position=position + 1, kind="exercise", body_md="", exercise=exercise
        )
    return course


def _mastery(client, course) -> dict[str, dict]:
    body = client.get(f"/api/v1/me/mastery?course={course.pk}").json()
    return {row["skill"]["name"]: row for row in body["results"]}


def _steps(client, course) -> list[dict]:
    body = client.get(f"/api/v1/me/learning-path?course={course.pk}").json()
    return body["results"][0]["steps"] if body["results"] else []


def test_the_api_journey_of_a_new_student(course, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(UserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v1/enrollments", {"course": course.pk}).status_code == 201

    # enrolment planned at once: the lesson of the first skill, and nothing shown as known
    mastery = _mastery(client, course)
    assert {name: row["status"] for name, row in mastery.items()} == {
        "Basics": "not_started",
        "Advanced": "not_started",
    }
    assert all(row["percent"] is None and row["probability"] == 0 for row in mastery.values())
    steps = _steps(client, course)
    assert steps[0]["kind"] == "lesson"
    lesson_id = steps[0]["lesson"]["id"]

    # completing the lesson re-plans at once: it leaves the path, exercises take its place
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/lesson-events", {"lesson": lesson_id, "verb": "completed"}, format="json"
        )
    assert response.status_code == 201, response.content
    steps = _steps(client, course)
    assert all(step["lesson"] is None for step in steps)
    assert all(f"#exercise-{step['exercise']['id']}" in step["url"] for step in steps)

    # right answers never lower the shown mastery, and reach "mastered" by the third
    shown = []
    for _ in range(3):
        exercise_id = _steps(client, course)[0]["exercise"]["id"]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/attempts", {"exercise": exercise_id, "answer": 42}, format="json"
            )
        assert response.status_code == 201, response.content
        basics = _mastery(client, course)["Basics"]
        assert basics["updating"] is False
        shown.append(basics["probability"])
        # a solved exercise is not offered again while others remain
        assert exercise_id not in [s["exercise"]["id"] for s in _steps(client, course)[:1]]
    assert shown == sorted(shown)
    assert _mastery(client, course)["Basics"]["status"] == "mastered"
    assert _mastery(client, course)["Advanced"]["status"] == "not_started"
