"""Learner API behaviour: tokens, profile, enrolments, attempts, events, resume and progress."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from courses.models import Exercise
from learners.models import Attempt, Enrollment, LessonEvent, User
from tests.api.conftest import PASSWORD, World, database_snapshot, error_of
from tests.factories import ChoiceFactory, ExerciseFactory, HintFactory

API = "/api/v1"


# Authentication and profile ---------------------------------------------------------------------


def test_token_is_issued_for_good_credentials_and_authenticates(world: World) -> None:
    client = APIClient()

    issued = client.post(
        f"{API}/auth/token", {"username": "student_a", "password": PASSWORD}, format="json"
    )

    assert issued.status_code == 200
    token = issued.json()["token"]
    assert Token.objects.get(key=token).user == world.users["student_a"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/me").json()["username"] == "student_a"


def test_token_is_refused_for_a_wrong_password(world: World) -> None:
    response = APIClient().post(
        f"{API}/auth/token", {"username": "student_a", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["message"] == (
        "Unable to log in with the given username and password."
    )
    assert not Token.objects.exists()


def test_session_login_works_for_reads(world: World) -> None:
    client = APIClient()
    assert client.login(username="owner", password=PASSWORD)

    response = client.get(f"{API}/courses/{world.draft.course.pk}")

    assert response.status_code == 200


def test_anonymous_is_asked_to_authenticate(world: World) -> None:
    response = APIClient().get(f"{API}/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert error_of(response)["code"] == "not_authenticated"


def test_bad_token_is_a_401(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(f"{API}/courses")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_me_shows_the_profile(world: World) -> None:
    response = world.client("student_a").get(f"{API}/me")

    body = response.json()
    assert body["username"] == "student_a"
    assert body["role"] == "student"
    assert body["is_staff"] is False
    assert "password" not in body


def test_me_update_cannot_change_role_staff_or_username(world: World) -> None:
    # when: a student tries to promote themself
    response = world.client("student_a").patch(
        f"{API}/me",
        {
            "first_name": "Ada",
            "role": "teacher",
            "is_staff": True,
            "is_superuser": True,
            "username": "admin",
            "preferred_language": "zh-hans",
        },
        format="json",
    )

    # then: only the profile fields changed
    assert response.status_code == 200
    user = User.objects.get(pk=world.users["student_a"].pk)
    assert user.first_name == "Ada"
    assert user.preferred_language == "zh-hans"
    assert user.role == User.Role.STUDENT
    assert user.is_staff is False
    assert user.is_superuser is False
    assert user.username == "student_a"
    assert response.json()["role"] == "student"


def test_me_update_with_a_bad_email_is_refused(world: World) -> None:
    before = database_snapshot()

    response = world.client("student_a").patch(f"{API}/me", {"email": "nope"}, format="json")

    assert response.status_code == 400
    assert "email" in error_of(response)["fields"]
    assert database_snapshot() == before


# Enrolments -------------------------------------------------------------------------------------


def test_enrolment_lists_only_the_callers_own(world: World) -> None:
    response = world.client("student_a").get(f"{API}/enrollments")

    assert [item["id"] for item in response.json()["results"]] == [world.enrollment_a.pk]


def test_enrol_drop_and_enrol_again(world: World) -> None:
    client = world.client("other_teacher")
    course = world.published.course

    enrolled = client.post(f"{API}/enrollments", {"course": course.pk}, format="json")
    assert enrolled.status_code == 201
    enrollment_id = enrolled.json()["id"]
    assert enrolled.json()["status"] == "active"

    dropped = client.post(f"{API}/enrollments/{enrollment_id}/drop")
    assert dropped.json()["status"] == "dropped"

    again = client.post(f"{API}/enrollments", {"course": course.pk}, format="json")
    assert again.json() == {**dropped.json(), "status": "active"}
    assert Enrollment.objects.filter(user=world.users["other_teacher"]).count() == 1


def test_enrolling_in_a_draft_is_refused_even_for_its_owner(world: World) -> None:
    response = world.client("owner").post(
        f"{API}/enrollments", {"course": world.draft.course.pk}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["message"] == "This course is not open for enrolment."


def test_enrolling_in_an_invisible_draft_reads_as_unknown(world: World) -> None:
    response = world.client("student_a").post(
        f"{API}/enrollments", {"course": world.draft.course.pk}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["fields"]["course"] == [
        f'Invalid pk "{world.draft.course.pk}" - object does not exist.'
    ]


# Attempts ---------------------------------------------------------------------------------------


def test_correct_attempt_is_graded_on_the_server(world: World) -> None:
    content = world.published
    client = world.client("student_a")
    hint = client.post(f"{API}/exercises/{content.exercise.pk}/hints/next")

    response = client.post(
        f"{API}/attempts",
        {
            "exercise": content.exercise.pk,
            "answer": content.correct_choice.pk,
            "hints_used": 0,  # ignored: the server counted the reveal above
            "duration_ms": 4200,
        },
        format="json",
    )

    assert hint.status_code == 200, hint.content
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_correct"] is True
    assert body["feedback"] == ["Right."]
    assert body["feedback_html"] == ["Right."]
    assert body["explanation_html"] == "<p>One half is 1/2.</p>"
    assert body["correct_answer"] == content.correct_choice.pk
    assert body["state"]["solution_shown"] is True
    attempt = Attempt.objects.get(pk=body["id"])
    assert (attempt.user, attempt.course, attempt.hints_used, attempt.duration_ms) == (
        world.users["student_a"],
        content.course,
        1,
        4200,
    )


def test_attempt_ignores_is_correct_user_and_course_sent_by_the_client(world: World) -> None:
    content = world.published

    response = world.client("student_a").post(
        f"{API}/attempts",
        {
            "exercise": content.exercise.pk,
            "answer": content.wrong_choice.pk,
            "is_correct": True,
            "user": world.users["student_b"].pk,
            "course": world.draft.course.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    attempt = Attempt.objects.get(pk=response.json()["id"])
    assert attempt.is_correct is False
    assert attempt.user == world.users["student_a"]
    assert attempt.course == content.course
    assert response.json()["feedback"] == ["Too small."]


@pytest.mark.parametrize(
    ("kind", "answer", "is_correct", "correct_answer"),
    [
        ("numeric", "42.3", True, 42.0),
        ("numeric", 41, False, 42.0),
        ("text", "  FORTY-two ", True, "forty-two"),
        ("text", "forty", False, "forty-two"),
    ],
)
def test_numeric_and_text_answers(
    world: World, kind: str, answer: object, is_correct: bool, correct_answer: object
) -> None:
    exercise = ExerciseFactory(
        course=world.published.course,
        kind=kind,
        numeric_answer=42.0 if kind == "numeric" else None,
        accepted_answers=["forty-two"] if kind == "text" else [],
    )

    response = world.client("student_b").post(
        f"{API}/attempts", {"exercise": exercise.pk, "answer": answer}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["is_correct"] is is_correct
    # a first wrong answer is not the last of three: no answer given away
    assert response.json()["correct_answer"] == (correct_answer if is_correct else None)


def test_multiple_choice_answer(world: World) -> None:
    exercise = ExerciseFactory(
        course=world.published.course, kind=Exercise.Kind.MULTIPLE, numeric_answer=None
    )
    first = ChoiceFactory(exercise=exercise, is_correct=True)
    ChoiceFactory(exercise=exercise, is_correct=False)
    third = ChoiceFactory(exercise=exercise, is_correct=True)
    HintFactory(exercise=exercise, position=1)

    response = world.client("student_a").post(
        f"{API}/attempts",
        {"exercise": exercise.pk, "answer": [third.pk, first.pk], "hints_used": 1},
        format="json",
    )

    assert response.json()["is_correct"] is True
    assert response.json()["answer"] == sorted([first.pk, third.pk])
    assert response.json()["correct_answer"] == sorted([first.pk, third.pk])


def test_attempt_without_enrolment_is_refused(world: World) -> None:
    before = database_snapshot()

    response = world.client("other_teacher").post(
        f"{API}/attempts",
        {"exercise": world.published.exercise.pk, "answer": world.published.correct_choice.pk},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["message"] == "Enrol in the course before answering its exercises."
    assert database_snapshot() == before


def test_attempts_list_only_the_callers_own(world: World) -> None:
    response = world.client("student_a").get(f"{API}/attempts")

    assert [item["id"] for item in response.json()["results"]] == [world.attempt_a.pk]
    assert response.json()["results"][0]["user"] == world.users["student_a"].pk


def test_student_filtering_by_course_still_sees_only_their_own(world: World) -> None:
    response = world.client("student_b").get(f"{API}/attempts?course={world.published.course.pk}")

    assert [item["id"] for item in response.json()["results"]] == [world.attempt_b.pk]


@pytest.mark.parametrize("actor", ["owner", "staff"])
def test_course_editors_list_every_attempt_of_their_course(world: World, actor: str) -> None:
    response = world.client(actor).get(f"{API}/attempts?course={world.published.course.pk}")

    assert sorted(item["id"] for item in response.json()["results"]) == sorted(
        [world.attempt_a.pk, world.attempt_b.pk]
    )


def test_other_teacher_cannot_list_attempts_of_a_course_they_do_not_edit(world: World) -> None:
    response = world.client("other_teacher").get(
        f"{API}/attempts?course={world.published.course.pk}"
    )

    assert response.json()["results"] == []


def test_attempts_cannot_be_changed_or_removed(world: World) -> None:
    client = world.client("student_a")
    before = database_snapshot()

    responses = [
        client.patch(f"{API}/attempts/{world.attempt_a.pk}", {"is_correct": False}, format="json"),
        client.put(f"{API}/attempts/{world.attempt_a.pk}", {"is_correct": False}, format="json"),
        client.delete(f"{API}/attempts/{world.attempt_a.pk}"),
    ]

    assert [response.status_code for response in responses] == [405, 405, 405]
    assert database_snapshot() == before
    assert Attempt.objects.get(pk=world.attempt_a.pk).is_correct is True


# Lesson events, resume, progress ----------------------------------------------------------------


def test_lesson_events_list_only_the_callers_own(world: World) -> None:
    response = world.client("student_b").get(f"{API}/lesson-events")

    assert [item["id"] for item in response.json()["results"]] == [world.event_b.pk]


def test_lesson_event_is_recorded_for_the_caller(world: World) -> None:
    content = world.published

    response = world.client("student_a").post(
        f"{API}/lesson-events",
        {
            "lesson": content.lesson.pk,
            "block": content.video_block.pk,
            "verb": "seeked",
            "position_seconds": 64.5,
            "user": world.users["student_b"].pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    event = LessonEvent.objects.get(pk=response.json()["id"])
    assert (event.user, event.verb, event.position_seconds) == (
        world.users["student_a"],
        "seeked",
        64.5,
    )


def test_video_resume_position_is_the_callers_own(world: World) -> None:
    video = world.published.video_block

    position_a = world.client("student_a").get(f"{API}/blocks/{video.pk}/resume").json()
    position_b = world.client("student_b").get(f"{API}/blocks/{video.pk}/resume").json()
    position_owner = world.client("owner").get(f"{API}/blocks/{video.pk}/resume").json()

    assert position_a == {"block": video.pk, "position_seconds": 30.0}
    assert position_b == {"block": video.pk, "position_seconds": 75.0}
    assert position_owner == {"block": video.pk, "position_seconds": 0.0}


def test_resume_starts_over_after_completion(world: World) -> None:
    content = world.published
    client = world.client("student_a")
    client.post(
        f"{API}/lesson-events",
        {"lesson": content.lesson.pk, "block": content.video_block.pk, "verb": "completed"},
        format="json",
    )

    response = client.get(f"{API}/blocks/{content.video_block.pk}/resume")

    assert response.json()["position_seconds"] == 0.0


def test_progress_is_the_callers_own(world: World) -> None:
    # given: student A completed the first lesson
    content = world.published
    world.client("student_a").post(
        f"{API}/lesson-events", {"lesson": content.lesson.pk, "verb": "completed"}, format="json"
    )

    response = world.client("student_a").get(f"{API}/me/progress")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "course_id": content.course.pk,
            "course_slug": "published-course",
            "course_title": "Published course",
            "enrollment_status": "active",
            "lessons_total": 2,
            "lessons_completed": 1,
            "exercises_total": 1,
            "exercises_attempted": 1,
            "exercises_solved": 1,
            "attempts": 1,
            "correct_attempts": 1,
            # one lesson of two and the one exercise: two items of three
            "percent_complete": 66.7,
        }
    ]
    other = world.client("student_b").get(f"{API}/me/progress").json()["results"]
    assert other[0]["lessons_completed"] == 0


def test_progress_of_someone_without_enrolments_is_empty(world: World) -> None:
    response = world.client("other_teacher").get(f"{API}/me/progress")

    assert response.json()["results"] == []
    assert response.json()["count"] == 0


def test_dropped_enrolment_blocks_new_attempts(world: World) -> None:
    world.client("student_a").post(f"{API}/enrollments/{world.enrollment_a.pk}/drop")
    before = Attempt.objects.count()

    response = world.client("student_a").post(
        f"{API}/attempts",
        {"exercise": world.published.exercise.pk, "answer": world.published.correct_choice.pk},
        format="json",
    )

    assert response.status_code == 400
    assert Attempt.objects.count() == before


# The attempt policy -----------------------------------------------------------------------------


def _answer(client: APIClient, exercise: Exercise, answer: object) -> dict:
    response = client.post(
        f"{API}/attempts", {"exercise": exercise.pk, "answer": answer}, format="json"
    )
    return {"status": response.status_code, **response.json()}


def test_the_answer_is_given_only_after_the_last_allowed_attempt(world: World) -> None:
    exercise = ExerciseFactory(course=world.published.course, max_attempts=3)
    client = world.client("student_b")

    bodies = [_answer(client, exercise, 41) for _ in range(3)]

    assert [b["status"] for b in bodies] == [201, 201, 201]
    assert [b["correct_answer"] for b in bodies] == [None, None, 42.0]
    assert [b["explanation_html"] for b in bodies] == ["", "", "<p>6 x 7 = 42.</p>"]
    assert [b["state"]["attempts_left"] for b in bodies] == [2, 1, 0]
    assert [b["state"]["solution_shown"] for b in bodies] == [False, False, True]


def test_an_attempt_after_the_limit_is_refused_with_409(world: World) -> None:
    exercise = ExerciseFactory(course=world.published.course, max_attempts=1)
    client = world.client("student_b")
    _answer(client, exercise, 41)
    before = database_snapshot()

    body = _answer(client, exercise, 42)

    assert body["status"] == 409
    assert body["error"] == {
        "code": "conflict",
        "message": "You have used your 1 attempt at this exercise; the solution is shown.",
        "fields": {},
    }
    assert database_snapshot() == before


def test_asking_for_the_solution_shows_it_and_ends_graded_attempts(world: World) -> None:
    exercise = ExerciseFactory(course=world.published.course)
    client = world.client("student_b")
    _answer(client, exercise, 41)

    solution = client.post(f"{API}/exercises/{exercise.pk}/solution")
    after = _answer(client, exercise, 42)
    state = client.get(f"{API}/exercises/{exercise.pk}/state").json()

    assert solution.status_code == 200, solution.content
    assert solution.json()["correct_answer"] == 42.0
    assert solution.json()["explanation_html"] == "<p>6 x 7 = 42.</p>"
    assert after["status"] == 409
    assert "asked to see the solution" in after["error"]["message"]
    assert state == {
        "exercise": exercise.pk,
        "max_attempts": 3,
        "attempts_used": 1,
        "attempts_left": 0,
        "accepts_attempts": False,
        "is_solved": False,
        "solved_on_attempt": None,
        "is_revealed": True,
        "solution_shown": True,
        "answer": 41.0,
        "hints_used": 0,
    }
    revealed = Attempt.objects.get(user=world.users["student_b"], is_revealed=True)
    assert revealed.is_correct is False


def test_a_solved_exercise_is_remembered_in_its_state(world: World) -> None:
    exercise = ExerciseFactory(course=world.published.course)
    client = world.client("student_b")
    _answer(client, exercise, 41)
    _answer(client, exercise, 42)

    state = client.get(f"{API}/exercises/{exercise.pk}/state").json()

    assert (state["is_solved"], state["solved_on_attempt"], state["answer"]) == (True, 2, 42.0)


def test_hints_are_recorded_one_at_a_time_and_then_run_out(world: World) -> None:
    exercise = world.published.exercise
    client = world.client("student_b")

    first = client.post(f"{API}/exercises/{exercise.pk}/hints/next")
    second = client.post(f"{API}/exercises/{exercise.pk}/hints/next")
    third = client.post(f"{API}/exercises/{exercise.pk}/hints/next")

    assert first.json() == {
        "position": 1,
        "text": "Split it in two.",
        "text_html": "Split it in two.",
        "hints_used": 1,
        "hint_count": 2,
    }
    assert second.json()["hints_used"] == 2
    assert third.status_code == 409
    assert third.json()["error"]["message"] == "Every hint of this exercise is already shown."


def test_hint_and_solution_of_an_exercise_the_caller_cannot_see_are_404(world: World) -> None:
    client = world.client("student_b")
    exercise = world.draft.exercise
    before = database_snapshot()

    responses = [
        client.post(f"{API}/exercises/{exercise.pk}/hints/next"),
        client.post(f"{API}/exercises/{exercise.pk}/solution"),
        client.get(f"{API}/exercises/{exercise.pk}/state"),
        client.post(f"{API}/exercises/{10**30}/solution"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert database_snapshot() == before


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("4\x002", id="nul"),
        pytest.param("9" * 10_001, id="too-long"),
        pytest.param(["²"], id="superscript-in-a-list"),
    ],
)
def test_a_malformed_answer_is_400_with_a_message(world: World, answer: object) -> None:
    exercise = ExerciseFactory(course=world.published.course)
    before = database_snapshot()

    body = _answer(world.client("student_b"), exercise, answer)

    assert body["status"] == 400
    assert body["error"]["message"]
    assert database_snapshot() == before


def test_choice_text_hints_and_feedback_carry_math_html(world: World) -> None:
    exercise = ExerciseFactory(
        course=world.published.course, kind=Exercise.Kind.SINGLE, numeric_answer=None
    )
    ChoiceFactory(exercise=exercise, text="$(-2)^4$", is_correct=True, feedback="$16$ indeed")
    HintFactory(exercise=exercise, position=1, text="Square $-2$ twice.")

    listed = world.client("student_b").get(f"{API}/exercises/{exercise.pk}").json()
    hint = world.client("student_b").post(f"{API}/exercises/{exercise.pk}/hints/next").json()
    owner = world.client("owner").get(f"{API}/exercises/{exercise.pk}").json()

    assert listed["choices"][0]["text_html"] == '<span class="math">(-2)^4</span>'
    assert listed["max_attempts"] == 3
    assert hint["text_html"] == 'Square <span class="math">-2</span> twice.'
    assert owner["choices"][0]["feedback_html"] == '<span class="math">16</span> indeed'
    assert owner["hints"][0]["text_html"] == 'Square <span class="math">-2</span> twice.'
