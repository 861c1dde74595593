"""The adaptive endpoints: recommendation, paths, mastery, models, retraining, runs."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from adaptive.display_store import learner_shown
from adaptive.models import ModelVersion, TrainingRun
from courses.models import SkillPrerequisite
from learners.services import attempt_submit
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    owner = TeacherFactory()
    course = CourseFactory(owner=owner)
    basics = SkillFactory(course=course, name="Basics")
    advanced = SkillFactory(course=course, name="Advanced")
    SkillPrerequisite.objects.create(skill=advanced, requires=basics)
    module = ModuleFactory(course=course)
    first = LessonFactory(module=module, title="First", position=1)
    first.skills.set([basics])
    second = LessonFactory(module=module, title="Second", position=2)
    second.skills.set([advanced])
    exercise = ExerciseFactory(course=course)
    exercise.skills.set([basics])
    student_a, student_b = UserFactory(), UserFactory()
    for student in (student_a, student_b):
        EnrollmentFactory(user=student, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(user=student_a, exercise=exercise, answer=0)
    return {
        "course": course,
        "first": first,
        "second": second,
        "owner": owner,
        "student_a": student_a,
        "student_b": student_b,
        "other_teacher": TeacherFactory(),
        "staff": UserFactory(is_staff=True),
    }


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_a_student_gets_their_next_lesson_and_the_reason(world):
    student = world["student_a"]

    response = client_for(student).post(
        "/api/v1/recommend",
        {"user_id": student.pk, "last_lesson": world["second"].pk},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["next_lesson"]["id"] == world["first"].pk
    assert body["reason"].startswith("Learn Basics with this lesson")
    assert body["reason_detail"]["prerequisite_of"] == ["Advanced"]
    assert body["model_version"] is None
    assert [step["kind"] for step in body["next_steps"]][:1] == ["lesson"]


def test_a_student_cannot_ask_for_another_student(world):
    response = client_for(world["student_a"]).post(
        "/api/v1/recommend",
        {"user_id": world["student_b"].pk, "last_lesson": world["first"].pk},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You may ask for your own recommendation only."


@pytest.mark.parametrize(
    ("actor", "expected"), [("owner", 200), ("other_teacher", 403), ("staff", 200)]
)
def test_teachers_ask_only_for_learners_of_their_courses(world, actor, expected):
    response = client_for(world[actor]).post(
        "/api/v1/recommend",
        {"user_id": world["student_b"].pk, "course": world["course"].pk},
        format="json",
    )

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "user_id: This field is required."),
        ({"user_id": "x", "course": 1}, 400, "user_id: A valid integer is required."),
        ({"user_id": 1}, 400, "Give last_lesson or course."),
        ({"user_id": 1, "last_lesson": 999999}, 404, "Not found."),
    ],
)
def test_recommend_refuses_bad_input(world, body, status, message):
    if body.get("user_id") == 1:
        body["user_id"] = world["student_a"].pk

    response = client_for(world["student_a"]).post("/api/v1/recommend", body, format="json")

    assert response.status_code == status
    assert response.json()["error"]["message"] == message


def test_recommend_needs_an_enrolment(world):
    outsider = UserFactory()

    response = client_for(outsider).post(
        "/api/v1/recommend",
        {"user_id": outsider.pk, "course": world["course"].pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "user_id: The learner is not enrolled in this course."
    )


def test_anonymous_callers_are_refused_everywhere(world):
    client = client_for(None)
    course = world["course"].pk
    for method, url in [
        ("post", "/api/v1/recommend"),
        ("get", "/api/v1/me/learning-path"),
        ("get", "/api/v1/me/mastery"),
        ("get", f"/api/v1/courses/{course}/mastery"),
        ("get", f"/api/v1/courses/{course}/models"),
        ("post", f"/api/v1/courses/{course}/retrain"),
    ]:
        assert getattr(client, method)(url).status_code in (401, 403), url


def test_my_learning_path_and_mastery_are_my_own(world):
    response = client_for(world["student_a"]).get("/api/v1/me/learning-path")
    mastery = client_for(world["student_a"]).get("/api/v1/me/mastery")
    other = client_for(world["student_b"]).get("/api/v1/me/mastery")

    assert response.status_code == 200
    paths = response.json()["results"]
    assert [path["course"]["id"] for path in paths] == [world["course"].pk]
    assert paths[0]["steps"][0]["sentence"].startswith("Learn Basics with this lesson")
    assert {row["skill"]["name"] for row in mastery.json()["results"]} == {"Basics", "Advanced"}
    # student_b has answered nothing: every skill not started, no number, whatever the model says
    assert {
        (row["skill"]["name"], row["status"], row["percent"]) for row in other.json()["results"]
    } == {
        ("Basics", "not_started", None),
        ("Advanced", "not_started", None),
    }


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("owner", 200), ("staff", 200), ("other_teacher", 403), ("student_a", 403)],
)
def test_the_class_heatmap_is_for_the_course_editors(world, actor, expected):
    response = client_for(world[actor]).get(f"/api/v1/courses/{world['course'].pk}/mastery")

    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert [skill["name"] for skill in body["skills"]] == ["Basics", "Advanced"]
        assert [learner["id"] for learner in body["learners"]] == sorted(
            [world["student_a"].pk, world["student_b"].pk]
        )
        # the values the learners are shown, not the raw model estimate
        row = body["learners"].index(
            {"id": world["student_a"].pk, "username": world["student_a"].username}
        )
        shown = learner_shown(user_id=world["student_a"].pk, course_id=world["course"].pk)
        basics = next(item for item in shown.skills if item.name == "Basics")
        assert body["probabilities"][row][0] == round(basics.value, 4)
        assert body["statuses"][row][0] == basics.status
        other = body["learners"].index(
            {"id": world["student_b"].pk, "username": world["student_b"].username}
        )
        assert body["probabilities"][other] == [None, None]
        assert body["statuses"][other] == ["not_started", "not_started"]
        assert body["count"] == 2


def test_models_list_the_course_and_global_versions(world):
    course = world["course"]
    ModelVersion.objects.create(course=course, kind="bkt", status="rejected", metrics={"auc": 0.7})
    ModelVersion.objects.create(
        course=None, kind="gru", status="active", activated_at=timezone.now(), metrics={"auc": 0.8}
    )

    response = client_for(world["owner"]).get(f"/api/v1/courses/{course.pk}/models")

    assert response.status_code == 200
    assert [(v["scope"], v["kind"], v["status"]) for v in response.json()["results"]] == [
        ("global", "gru", "active"),
        ("course", "bkt", "rejected"),
    ]


def test_a_teacher_queues_a_retrain_and_reads_its_run(world, django_capture_on_commit_callbacks):
    course = world["course"]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(world["owner"]).post(
            f"/api/v1/courses/{course.pk}/retrain", {"kind": "bkt"}, format="json"
        )

    assert response.status_code == 202
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert (run.status, run.trigger, run.kind, run.requested_by) == (
        "queued",
        "manual",
        "bkt",
        world["owner"],
    )
    assert len(callbacks) == 1
    assert (
        client_for(world["owner"]).get(f"/api/v1/training-runs/{run.pk}").json()["status"]
        == "queued"
    )
    assert (
        client_for(world["other_teacher"]).get(f"/api/v1/training-runs/{run.pk}").status_code == 404
    )
    assert client_for(world["student_a"]).get(f"/api/v1/training-runs/{run.pk}").status_code == 404


@pytest.mark.parametrize("body", [{"kind": "svm"}, {"epochs": 0}, {"epochs": "many"}])
def test_retrain_refuses_bad_input_and_queues_nothing(world, body):
    response = client_for(world["owner"]).post(
        f"/api/v1/courses/{world['course'].pk}/retrain", body, format="json"
    )

    assert response.status_code == 400
    assert TrainingRun.objects.count() == 0


def test_other_teachers_cannot_retrain(world):
    response = client_for(world["other_teacher"]).post(
        f"/api/v1/courses/{world['course'].pk}/retrain", {}, format="json"
    )

    assert response.status_code == 403
    assert TrainingRun.objects.count() == 0
