"""Reproductions of issue 10's web 500s: each is now a clear 4xx and writes nothing."""

import json

import pytest
from django.test import Client

from courses.models import Course, Exercise
from learners.models import Attempt, LessonEvent
from tests.factories import ExerciseFactory, TeacherFactory
from tests.security.conftest import Classroom

SUPERSCRIPT_TWO = "\u00b2"


def client_for(user) -> Client:
    # raise_request_exception=False: a crash must show as the 500 a browser would get.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("field", ["answer", "hints_used"])
def test_unicode_digit_in_an_attempt_is_a_message_not_a_500(classroom: Classroom, field) -> None:
    client = client_for(classroom.student)
    single = classroom.single
    data = {"answer": str(single.choices.get(is_correct=True).pk), "hints_used": "0"}
    data[field] = SUPERSCRIPT_TWO

    response = client.post(f"/exercises/{single.pk}/attempt/", data)

    # The htmx fragment, with the error (400: the page shows it in place) or the grade.
    assert response.status_code == (400 if field == "answer" else 200)
    if field == "answer":
        assert b"integer" in response.content
        assert Attempt.objects.count() == 0
    else:  # a malformed hint count reads as none used
        assert Attempt.objects.get().hints_used == 0


def test_unicode_digit_in_a_hint_request_is_not_a_500(classroom: Classroom) -> None:
    response = client_for(classroom.student).post(
        f"/exercises/{classroom.single.pk}/hint/", {"hints_used": SUPERSCRIPT_TWO}
    )

    assert response.status_code == 200
    assert b"Two equal parts." in response.content  # the first hint


def test_five_thousand_digit_answer_to_a_choice_exercise_is_refused(classroom: Classroom) -> None:
    response = client_for(classroom.student).post(
        f"/exercises/{classroom.single.pk}/attempt/", {"answer": "9" * 5000}
    )

    assert response.status_code == 400
    assert b"Each choice id must be an integer." in response.content
    assert Attempt.objects.count() == 0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (SUPERSCRIPT_TWO, b"ordinary digits"),
        ("\u00bd", b"ordinary digits"),
        ("9" * 5000, b"longer than 100 characters"),
        ("1/0", b"divide by zero"),
        ("12abc", b"must be a number"),
    ],
)
def test_bad_numeric_answer_is_a_message(classroom: Classroom, answer: str, message) -> None:
    response = client_for(classroom.student).post(
        f"/exercises/{classroom.numeric.pk}/attempt/", {"answer": answer}
    )

    assert response.status_code == 400
    assert message in response.content
    assert Attempt.objects.count() == 0


def test_fraction_is_a_numeric_answer(classroom: Classroom) -> None:
    exercise = ExerciseFactory(
        course=classroom.course, kind=Exercise.Kind.NUMERIC, numeric_answer=5 / 6, tolerance=0
    )

    response = client_for(classroom.student).post(
        f"/exercises/{exercise.pk}/attempt/", {"answer": " 5 / 6 "}
    )

    assert response.status_code == 200
    assert Attempt.objects.get().is_correct is True


def test_nul_in_a_text_answer_is_refused(classroom: Classroom) -> None:
    exercise = ExerciseFactory(
        course=classroom.course,
        kind=Exercise.Kind.TEXT,
        numeric_answer=None,
        accepted_answers=["hello"],
    )

    response = client_for(classroom.student).post(
        f"/exercises/{exercise.pk}/attempt/", {"answer": "hel\x00lo"}
    )

    assert response.status_code == 400
    assert b"null character" in response.content
    assert Attempt.objects.count() == 0


@pytest.mark.parametrize("query", ["%00", "a%00b", "x" * 201])
def test_catalogue_search_with_nul_or_a_huge_query_is_a_400(classroom: Classroom, query) -> None:
    response = Client(raise_request_exception=False).get(f"/courses/?q={query}")

    assert response.status_code == 400
    assert b"Algebra basics" in response.content  # the whole catalogue, with the message


def test_catalogue_search_still_searches(classroom: Classroom) -> None:
    response = Client().get("/courses/?q=algebra")

    assert response.status_code == 200
    assert b"Algebra basics" in response.content


@pytest.mark.parametrize("ids", [[SUPERSCRIPT_TWO], ["1", "x"], ["9" * 30]])
def test_studio_reorder_with_malformed_ids_is_a_400(classroom: Classroom, ids) -> None:
    module = classroom.lessons[0].module
    before = list(module.lessons.order_by("position").values_list("pk", flat=True))

    response = client_for(classroom.teacher).post(
        f"/studio/courses/{classroom.course.slug}/reorder/",
        {"kind": "lesson", "parent": str(module.pk), "ids": ids},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert "id" in response.json()["detail"]
    assert list(module.lessons.order_by("position").values_list("pk", flat=True)) == before


def test_studio_reorder_with_a_unicode_parent_is_a_400(classroom: Classroom) -> None:
    response = client_for(classroom.teacher).post(
        f"/studio/courses/{classroom.course.slug}/reorder/",
        {"kind": "lesson", "parent": SUPERSCRIPT_TWO, "ids": ["1"]},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400


@pytest.mark.parametrize("depth", [100, 3000, 100_000])
def test_deep_json_lesson_event_is_a_400(classroom: Classroom, depth: int) -> None:
    body = "[" * depth + "]" * depth

    response = client_for(classroom.student).post(
        f"/lessons/{classroom.lessons[0].pk}/events/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert LessonEvent.objects.count() == 0


def test_shallow_lesson_event_is_recorded(classroom: Classroom) -> None:
    body = {"verb": "played", "block": classroom.video.pk, "position_seconds": 3}

    response = client_for(classroom.student).post(
        f"/lessons/{classroom.lessons[0].pk}/events/",
        json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 201


# One publication rule ----------------------------------------------------------------------------


@pytest.fixture(params=[Course.Status.DRAFT, Course.Status.ARCHIVED])
def closed(request, classroom: Classroom) -> Classroom:
    """The classroom's course after its teacher unpublished or archived it (student enrolled)."""
    Course.objects.filter(pk=classroom.course.pk).update(status=request.param)
    classroom.course.refresh_from_db()
    return classroom


def test_no_attempts_in_a_closed_course(closed: Classroom) -> None:
    single = closed.single
    correct = single.choices.get(is_correct=True)

    response = client_for(closed.student).post(
        f"/exercises/{single.pk}/attempt/", {"answer": str(correct.pk)}
    )

    assert response.status_code == 403
    assert Attempt.objects.count() == 0


def test_no_hints_in_a_closed_course(closed: Classroom) -> None:
    response = client_for(closed.student).post(f"/exercises/{closed.single.pk}/hint/", {})

    assert response.status_code == 403


def test_no_lesson_page_or_events_in_a_closed_course(closed: Classroom) -> None:
    client = client_for(closed.student)
    lesson = closed.lessons[0]

    page = client.get(f"/courses/{closed.course.slug}/lessons/{lesson.pk}/")
    event = client.post(
        f"/lessons/{lesson.pk}/events/",
        json.dumps({"verb": "played"}),
        content_type="application/json",
    )
    complete = client.post(f"/courses/{closed.course.slug}/lessons/{lesson.pk}/complete/")

    assert page.status_code == 404
    assert event.status_code == 403
    assert complete.status_code == 302
    assert LessonEvent.objects.count() == 0


def test_editors_preview_a_closed_course_and_nothing_is_recorded(closed: Classroom) -> None:
    client = client_for(closed.teacher)
    lesson = closed.lessons[0]
    single = closed.single
    correct = single.choices.get(is_correct=True)

    page = client.get(f"/courses/{closed.course.slug}/lessons/{lesson.pk}/")
    attempt = client.post(f"/exercises/{single.pk}/attempt/", {"answer": str(correct.pk)})
    hint = client.post(f"/exercises/{single.pk}/hint/", {})
    event = client.post(
        f"/lessons/{lesson.pk}/events/",
        json.dumps({"verb": "played"}),
        content_type="application/json",
    )

    assert page.status_code == 200
    assert attempt.status_code == 200
    assert hint.status_code == 200
    assert event.status_code == 200
    assert Attempt.objects.count() == 0
    assert LessonEvent.objects.count() == 0


def test_anonymous_users_read_no_hints(classroom: Classroom) -> None:
    response = Client().post(f"/exercises/{classroom.single.pk}/hint/", {})

    assert response.status_code == 302  # to the login page
    assert "/accounts/login/" in response["Location"]


def test_a_teacher_of_another_course_reads_no_hints(classroom: Classroom) -> None:
    other = TeacherFactory(username="elsewhere")

    response = client_for(other).post(f"/exercises/{classroom.single.pk}/hint/", {})

    assert response.status_code == 403
