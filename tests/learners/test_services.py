"""Learner activity services: enrolment, graded attempts and lesson events."""

import itertools
import logging
import threading

import pytest
from django.db import connection

from courses.exceptions import GradingError
from courses.models import Course, Exercise, LessonBlock
from learners.events import attempt_recorded, attempt_recorded_send
from learners.exceptions import AttemptError, AttemptLimitError, EnrollmentError, LessonEventError
from learners.models import Attempt, Enrollment, HintReveal, LessonEvent
from learners.selectors import exercise_states_for_user
from learners.services import (
    MAX_DURATION_MS,
    attempt_submit,
    enrollment_create,
    hint_reveal_next,
    lesson_event_record,
    solution_reveal,
)
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    HintFactory,
    LessonBlockFactory,
    LessonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded():
    """Attempt ids announced through learners.events.attempt_recorded during the test."""
    received: list[int] = []

    def receiver(sender, attempt_id, **kwargs):
        received.append(attempt_id)

    attempt_recorded.connect(receiver, weak=False, dispatch_uid="test-recorded")
    yield received
    attempt_recorded.disconnect(dispatch_uid="test-recorded")


@pytest.fixture
def enrollment() -> Enrollment:
    return EnrollmentFactory()


@pytest.fixture
def numeric(enrollment) -> Exercise:
    exercise = ExerciseFactory(course=enrollment.course, numeric_answer=42.0, tolerance=0.5)
    HintFactory(exercise=exercise, position=1)
    HintFactory(exercise=exercise, position=2)
    return exercise


# Enrolment --------------------------------------------------------------------------------------


def test_learner_enrols_in_a_published_course():
    user, course = UserFactory(), CourseFactory()

    enrollment = enrollment_create(user=user, course=course)

    assert (enrollment.user, enrollment.course, enrollment.status) == (
        user,
        course,
        Enrollment.Status.ACTIVE,
    )
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize("status", [Course.Status.DRAFT, Course.Status.ARCHIVED])
def test_course_that_is_not_published_refuses_enrolment(status):
    course = CourseFactory(status=status, published_at=None)

    with pytest.raises(EnrollmentError, match="not open for enrolment"):
        enrollment_create(user=UserFactory(), course=course)

    assert Enrollment.objects.count() == 0


def test_enrolling_twice_returns_the_same_enrolment(enrollment):
    again = enrollment_create(user=enrollment.user, course=enrollment.course)

    assert again.pk == enrollment.pk
    assert Enrollment.objects.count() == 1


def test_enrolling_again_after_dropping_reactivates(enrollment):
    enrollment.status = Enrollment.Status.DROPPED
    enrollment.save()

    again = enrollment_create(user=enrollment.user, course=enrollment.course)

    enrollment.refresh_from_db()
    assert (again.pk, enrollment.status) == (enrollment.pk, Enrollment.Status.ACTIVE)
    assert Enrollment.objects.count() == 1


# Attempts ---------------------------------------------------------------------------------------


def test_attempt_is_graded_on_the_server_and_stored(enrollment, numeric):
    hint_reveal_next(user=enrollment.user, exercise=numeric)
    hint_reveal_next(user=enrollment.user, exercise=numeric)

    result = attempt_submit(
        user=enrollment.user,
        exercise=numeric,
        answer="４２,４",  # noqa: RUF001
        duration_ms=5300,
    )

    attempt = Attempt.objects.get()
    assert result.attempt == attempt
    assert (
        attempt.user,
        attempt.exercise,
        attempt.course,
        attempt.answer,
        attempt.is_correct,
        attempt.hints_used,
        attempt.duration_ms,
    ) == (enrollment.user, numeric, enrollment.course, 42.4, True, 2, 5300)
    assert (result.correct_answer, result.explanation_html) == (42.0, "<p>6 x 7 = 42.</p>")


def test_wrong_answer_is_stored_as_incorrect(enrollment, numeric):
    attempt_submit(user=enrollment.user, exercise=numeric, answer=41)

    assert list(Attempt.objects.values_list("answer", "is_correct")) == [(41.0, False)]


def test_text_attempt_stores_the_normalised_answer(enrollment):
    exercise = ExerciseFactory(
        course=enrollment.course,
        kind=Exercise.Kind.TEXT,
        numeric_answer=None,
        accepted_answers=["Hello World"],
    )

    result = attempt_submit(user=enrollment.user, exercise=exercise, answer="  ＨＥＬＬＯ   world ")  # noqa: RUF001

    assert (result.attempt.answer, result.attempt.is_correct) == ("hello world", True)
    assert result.correct_answer == "Hello World"


def test_multiple_choice_attempt_stores_sorted_ids_and_feedback(enrollment):
    exercise = ExerciseFactory(
        course=enrollment.course, kind=Exercise.Kind.MULTIPLE, numeric_answer=None
    )
    a = ChoiceFactory(exercise=exercise, is_correct=True, feedback="a is right")
    b = ChoiceFactory(exercise=exercise, is_correct=False)
    c = ChoiceFactory(exercise=exercise, is_correct=True)

    result = attempt_submit(user=enrollment.user, exercise=exercise, answer=[c.pk, a.pk])

    result.attempt.refresh_from_db()
    assert (result.attempt.answer, result.attempt.is_correct) == ([a.pk, c.pk], True)
    assert result.feedback == ["a is right"]
    assert result.correct_answer == [a.pk, c.pk]
    assert b.pk not in result.correct_answer


def test_client_cannot_decide_correctness(enrollment, numeric):
    with pytest.raises(TypeError):
        attempt_submit(user=enrollment.user, exercise=numeric, answer=1, is_correct=True)

    assert Attempt.objects.count() == 0


def test_attempt_without_enrolment_is_refused(
    numeric, recorded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AttemptError):
        attempt_submit(user=UserFactory(), exercise=numeric, answer=42)

    assert Attempt.objects.count() == 0
    assert recorded == []


def test_attempt_after_dropping_is_refused(enrollment, numeric):
    enrollment.status = Enrollment.Status.DROPPED
    enrollment.save()

    with pytest.raises(AttemptError, match="Enrol in the course"):
        attempt_submit(user=enrollment.user, exercise=numeric, answer=42)

    assert Attempt.objects.count() == 0


def test_attempt_in_another_course_is_refused(enrollment):
    other = ExerciseFactory()

    with pytest.raises(AttemptError):
        attempt_submit(user=enrollment.user, exercise=other, answer=42)

    assert Attempt.objects.count() == 0


def test_malformed_answer_is_refused_and_nothing_is_stored(enrollment, numeric):
    with pytest.raises(GradingError):
        attempt_submit(user=enrollment.user, exercise=numeric, answer="NaN")

    assert Attempt.objects.count() == 0


def test_client_cannot_send_the_hint_count(enrollment, numeric):
    with pytest.raises(TypeError):
        attempt_submit(user=enrollment.user, exercise=numeric, answer=42, hints_used=0)

    assert Attempt.objects.count() == 0


def test_hints_used_are_the_hints_this_learner_revealed(enrollment, numeric):
    other = EnrollmentFactory(course=enrollment.course)
    hint_reveal_next(user=other.user, exercise=numeric)
    first = hint_reveal_next(user=enrollment.user, exercise=numeric)

    result = attempt_submit(user=enrollment.user, exercise=numeric, answer=41)

    assert (first.hint.position, first.hints_used, first.hint_total) == (1, 1, 2)
    assert result.attempt.hints_used == 1
    assert result.state.hints_used == 1


def test_hints_are_revealed_in_order_once_each_and_then_run_out(enrollment, numeric):
    reveals = [hint_reveal_next(user=enrollment.user, exercise=numeric) for _ in range(3)]

    assert [(r.hint and r.hint.position, r.hints_used) for r in reveals] == [
        (1, 1),
        (2, 2),
        (None, 2),
    ]
    assert list(HintReveal.objects.values_list("position", flat=True)) == [1, 2]


def test_hint_without_enrolment_is_refused(numeric):
    with pytest.raises(AttemptError, match="Enrol in the course"):
        hint_reveal_next(user=UserFactory(), exercise=numeric)

    assert HintReveal.objects.count() == 0


# The attempt policy -----------------------------------------------------------------------------


def test_a_wrong_answer_that_is_not_the_last_shows_no_solution(enrollment, numeric):
    result = attempt_submit(user=enrollment.user, exercise=numeric, answer=41)

    assert (result.is_correct, result.correct_answer, result.explanation_html) == (
        False,
        None,
        "",
    )
    state = result.state
    assert (state.attempts_used, state.attempts_left, state.shows_solution) == (1, 2, False)


def test_the_last_allowed_wrong_answer_shows_the_solution(enrollment, numeric):
    results = [attempt_submit(user=enrollment.user, exercise=numeric, answer=41) for _ in "abc"]

    assert [r.correct_answer for r in results] == [None, None, 42.0]
    assert [r.explanation_html for r in results] == ["", "", "<p>6 x 7 = 42.</p>"]
    assert [r.state.attempts_left for r in results] == [2, 1, 0]


def test_no_attempt_is_graded_after_the_limit(enrollment, numeric, recorded):
    numeric.max_attempts = 2
    numeric.save()
    for _ in range(2):
        attempt_submit(user=enrollment.user, exercise=numeric, answer=41)

    with pytest.raises(AttemptLimitError) as error:
        attempt_submit(user=enrollment.user, exercise=numeric, answer=42)

    assert error.value.message == (
        "You have used all 2 attempts at this exercise; the solution is shown."
    )
    assert list(Attempt.objects.values_list("is_correct", flat=True)) == [False, False]


def test_a_right_answer_shows_the_solution_and_the_exercise_stays_open_for_review(
    enrollment, numeric
):
    first = attempt_submit(user=enrollment.user, exercise=numeric, answer=41)
    solved = attempt_submit(user=enrollment.user, exercise=numeric, answer=42)
    review = attempt_submit(user=enrollment.user, exercise=numeric, answer=42)

    assert first.correct_answer is None
    assert (solved.correct_answer, solved.state.is_solved, solved.state.solved_on_attempt) == (
        42.0,
        True,
        2,
    )
    assert (review.is_correct, review.state.solved_on_attempt, review.state.answer) == (
        True,
        2,
        42.0,
    )


def test_asking_for_the_solution_records_a_wrong_answer_and_ends_the_exercise(
    enrollment, numeric, recorded, django_capture_on_commit_callbacks
):
    attempt_submit(user=enrollment.user, exercise=numeric, answer=41)

    with django_capture_on_commit_callbacks(execute=True):
        result = solution_reveal(user=enrollment.user, exercise=numeric)
        again = solution_reveal(user=enrollment.user, exercise=numeric)

    assert (result.correct_answer, result.explanation_html) == (42.0, "<p>6 x 7 = 42.</p>")
    assert (result.attempt.is_correct, result.attempt.is_revealed) == (False, True)
    assert again.attempt is None  # shown already: nothing more is recorded
    assert recorded == [result.attempt.pk]
    assert result.state.is_revealed
    assert not result.state.accepts_attempts
    with pytest.raises(AttemptLimitError, match="asked to see the solution"):
        attempt_submit(user=enrollment.user, exercise=numeric, answer=42)
    assert list(Attempt.objects.values_list("is_correct", "is_revealed")) == [
        (False, False),
        (False, True),
    ]


def test_asking_for_the_solution_of_a_solved_exercise_records_nothing(enrollment, numeric):
    attempt_submit(user=enrollment.user, exercise=numeric, answer=42)

    result = solution_reveal(user=enrollment.user, exercise=numeric)

    assert (result.attempt, result.correct_answer) == (None, 42.0)
    assert Attempt.objects.count() == 1


def test_solution_without_enrolment_is_refused(numeric):
    with pytest.raises(AttemptError, match="Enrol in the course"):
        solution_reveal(user=UserFactory(), exercise=numeric)

    assert Attempt.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_cannot_both_take_the_last_attempt(enrollment, numeric):
    # given one attempt left
    numeric.max_attempts = 2
    numeric.save()
    attempt_submit(user=enrollment.user, exercise=numeric, answer=41)
    outcomes: list[str] = []

    def answer() -> None:
        try:
            attempt_submit(user=enrollment.user, exercise=numeric, answer=41)
            outcomes.append("graded")
        except AttemptLimitError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["graded", "refused"]
    assert Attempt.objects.filter(user=enrollment.user).count() == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("4\x002", id="nul"),
        pytest.param("9" * 10_001, id="too-long"),
        pytest.param(int("9" * 4000) * 10**400, id="too-many-digits"),
    ],
)
def test_an_answer_no_exercise_could_take_is_refused(enrollment, numeric, answer):
    with pytest.raises(AttemptError):
        attempt_submit(user=enrollment.user, exercise=numeric, answer=answer)

    assert Attempt.objects.count() == 0


def test_exercise_states_take_two_queries_for_many_exercises(
    enrollment, numeric, django_assert_num_queries
):
    others = [ExerciseFactory(course=enrollment.course, numeric_answer=1.0) for _ in range(5)]
    for exercise in others:
        attempt_submit(user=enrollment.user, exercise=exercise, answer=1)
    hint_reveal_next(user=enrollment.user, exercise=numeric)

    with django_assert_num_queries(2):
        states = exercise_states_for_user(user=enrollment.user, exercises=[numeric, *others])

    assert [s.is_solved for s in states.values()] == [False] + [True] * 5
    assert states[numeric.pk].hints_used == 1


@pytest.mark.parametrize("duration_ms", [None, 0, MAX_DURATION_MS])
def test_duration_within_bounds_is_accepted(enrollment, numeric, duration_ms):
    result = attempt_submit(
        user=enrollment.user, exercise=numeric, answer=42, duration_ms=duration_ms
    )

    assert result.attempt.duration_ms == duration_ms


@pytest.mark.parametrize("duration_ms", [-1, MAX_DURATION_MS + 1, True, 1.5, "100"])
def test_duration_out_of_bounds_is_refused(enrollment, numeric, duration_ms):
    with pytest.raises(AttemptError) as error:
        attempt_submit(user=enrollment.user, exercise=numeric, answer=42, duration_ms=duration_ms)

    assert error.value.message == "duration_ms must be between 0 and 86400000."
    assert Attempt.objects.count() == 0


def test_attempt_is_announced_only_after_commit(
    enrollment, numeric, recorded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = attempt_submit(user=enrollment.user, exercise=numeric, answer=42)
        assert recorded == []

    # One announcement; the online update it runs (eagerly here) may queue work of its own
    # after that (the class dashboard's recompute), which is not the attempt's.
    announced = [c for c in callbacks if getattr(c, "func", None) is attempt_recorded_send]
    assert len(announced) == 1
    assert callbacks[0] is announced[0]
    assert recorded == [result.attempt.pk]


def test_failing_subscriber_neither_fails_the_attempt_nor_silences_others(
    enrollment, numeric, recorded, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, attempt_id, **kwargs):
        raise ConnectionError("broker down")

    attempt_recorded.connect(broken, weak=False, dispatch_uid="test-broken")
    try:
        with (
            caplog.at_level(logging.ERROR, logger="django.dispatch"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = attempt_submit(user=enrollment.user, exercise=numeric, answer=42)
    finally:
        attempt_recorded.disconnect(dispatch_uid="test-broken")

    assert recorded == [result.attempt.pk]
    assert Attempt.objects.count() == 1
    failures = [r.exc_info[0] for r in caplog.records if r.name == "django.dispatch"]
    assert failures == [ConnectionError]


# Lesson events ----------------------------------------------------------------------------------


@pytest.fixture
def lesson(enrollment):
    return LessonFactory(module__course=enrollment.course)


@pytest.fixture
def video(lesson) -> LessonBlock:
    return LessonBlockFactory(
        lesson=lesson, kind=LessonBlock.Kind.VIDEO, media="v.mp4", duration_seconds=120
    )


@pytest.mark.parametrize("verb", LessonEvent.Verb.values)
def test_every_verb_is_recorded(enrollment, lesson, video, verb):
    event = lesson_event_record(
        user=enrollment.user, lesson=lesson, verb=verb, block=video, position_seconds=12
    )

    event.refresh_from_db()
    assert (event.user, event.lesson, event.block, event.verb, event.position_seconds) == (
        enrollment.user,
        lesson,
        video,
        verb,
        12.0,
    )


def test_unknown_verb_is_refused(enrollment, lesson):
    with pytest.raises(LessonEventError) as error:
        lesson_event_record(user=enrollment.user, lesson=lesson, verb="liked")

    assert error.value.message == (
        "Unknown verb 'liked'; use one of viewed, completed, played, paused, seeked, progressed."
    )
    assert LessonEvent.objects.count() == 0


def test_block_of_another_lesson_is_refused(enrollment, lesson):
    other = LessonBlockFactory(lesson=LessonFactory(module=lesson.module))

    with pytest.raises(LessonEventError, match="does not belong to this lesson"):
        lesson_event_record(user=enrollment.user, lesson=lesson, verb="viewed", block=other)

    assert LessonEvent.objects.count() == 0


def test_event_without_enrolment_is_refused(lesson):
    with pytest.raises(LessonEventError, match="Enrol in the course"):
        lesson_event_record(user=UserFactory(), lesson=lesson, verb="viewed")

    assert LessonEvent.objects.count() == 0


@pytest.mark.parametrize("position", [0, 0.0, 60.5, 121])
def test_position_within_the_media_is_accepted(enrollment, lesson, video, position):
    event = lesson_event_record(
        user=enrollment.user, lesson=lesson, verb="paused", block=video, position_seconds=position
    )

    assert event.position_seconds == float(position)


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(-0.5, id="negative"),
        pytest.param(121.5, id="past-the-end"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(10**400, id="huge-int"),
        pytest.param(True, id="bool"),
        pytest.param("12", id="string"),
    ],
)
def test_position_out_of_bounds_is_refused(enrollment, lesson, video, position):
    with pytest.raises(LessonEventError):
        lesson_event_record(
            user=enrollment.user,
            lesson=lesson,
            verb="seeked",
            block=video,
            position_seconds=position,
        )

    assert LessonEvent.objects.count() == 0


def test_lesson_level_event_needs_no_block(enrollment, lesson):
    event = lesson_event_record(user=enrollment.user, lesson=lesson, verb="completed")

    assert (event.block, event.position_seconds, event.verb) == (None, None, "completed")


@pytest.mark.django_db(transaction=True)
def test_concurrent_enrolments_of_the_same_learner_make_one():
    user, course = UserFactory(), CourseFactory()
    start = threading.Barrier(4)
    enrolled: list[int] = []

    def enrol():
        start.wait()
        try:
            enrolled.append(enrollment_create(user=user, course=course).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Enrollment.objects.count() == 1
    assert enrolled == [Enrollment.objects.get().pk] * 4


# The policy over every sequence of answers and requests for the solution -----------------------


def _policy_walk(enrollment, steps, max_attempts) -> None:
    # a fresh exercise per sequence, so that each starts from nothing
    exercise = ExerciseFactory(course=enrollment.course, max_attempts=max_attempts)
    wrong, solved, revealed = 0, False, False
    for step in steps:
        closed = not solved and (revealed or wrong >= max_attempts)
        if step == "reveal":
            result = solution_reveal(user=enrollment.user, exercise=exercise)
            revealed = revealed or not solved
        else:
            try:
                result = attempt_submit(
                    user=enrollment.user, exercise=exercise, answer=42 if step == "right" else 41
                )
            except AttemptLimitError:
                assert closed, steps
                continue
            assert not closed, steps
            if step == "wrong" and not solved:
                wrong += 1
            solved = solved or step == "right"
        shown = bool(solved or revealed or wrong >= max_attempts)
        assert result.state.shows_solution is shown, steps
        assert (result.correct_answer is not None) is shown, steps
        assert bool(result.explanation_html) is shown, steps
    # wrong answers before it was solved never exceed the limit (later ones are reviews)
    graded = Attempt.objects.filter(exercise=exercise, is_revealed=False).order_by("id")
    before_solved = list(itertools.takewhile(lambda a: not a.is_correct, graded))
    assert len(before_solved) <= max_attempts, steps
    assert Attempt.objects.filter(exercise=exercise, is_revealed=True).count() <= 1, steps


def test_the_solution_is_never_shown_early_and_the_limit_always_holds(enrollment):
    # every sequence of up to four steps, for a limit of one attempt and of three (the default)
    for max_attempts in (1, 3):
        for length in range(1, 5):
            for steps in itertools.product(("right", "wrong", "reveal"), repeat=length):
                _policy_walk(enrollment, steps, max_attempts)
