"""The online update: an attempt folds into the learner's state, mastery and path."""

import numpy as np
import pytest

from adaptive.ml.bkt import DEFAULT_GUESS, DEFAULT_LEARN, DEFAULT_PRIOR, DEFAULT_SLIP, BKTParams
from adaptive.ml.step import StepWeights
from adaptive.models import LearnerState, LearningPath, PathStep
from adaptive.selectors import histories_load, mastery_raw_for_learner
from adaptive.services.knowledge_state import learner_state_update
from adaptive.serving import Runtime, replay_batch, runtime_for_course
from courses.models import SkillPrerequisite
from learners.services import attempt_submit
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course_setup():
    course = CourseFactory()
    basics = SkillFactory(course=course, name="Basics")
    advanced = SkillFactory(course=course, name="Advanced")
    SkillPrerequisite.objects.create(skill=advanced, requires=basics)
    module = ModuleFactory(course=course)
    lesson = LessonFactory(module=module, title="Basics lesson")
    lesson.skills.set([basics])
    exercises = []
    for _ in range(3):
        exercise = ExerciseFactory(course=course)
        exercise.skills.set([basics])
        exercises.append(exercise)
    student = UserFactory()
    EnrollmentFactory(user=student, course=course)
    return course, basics, advanced, lesson, exercises, student


def test_an_attempt_updates_mastery_and_path_after_commit(
    course_setup, django_capture_on_commit_callbacks
):
    course, _basics, _advanced, lesson, exercises, student = course_setup

    # when (Celery is eager in unit tests, so the task runs on commit)
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(user=student, exercise=exercises[0], answer=42)

    # then the cold-start BKT raised mastery of Basics from the prior
    state = LearnerState.objects.get(user=student, course=course)
    assert state.model_version_id is None
    assert state.last_attempt_id == student.attempts.get().pk
    assert state.attempts_count == 1
    names = dict(course.skills.values_list("pk", "name"))
    mastery = {
        names[skill_id]: value
        for skill_id, value in mastery_raw_for_learner(
            user_id=student.pk, course_id=course.pk
        ).items()
    }
    # Bayes: P(L|correct) = 0.3*0.9 / (0.3*0.9 + 0.7*0.2) = 0.6585...; then learning 0.1
    assert (DEFAULT_PRIOR, DEFAULT_SLIP, DEFAULT_GUESS, DEFAULT_LEARN) == (0.3, 0.1, 0.2, 0.1)
    posterior = 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.2)
    assert mastery["Basics"] == pytest.approx(posterior + (1 - posterior) * 0.1, abs=1e-6)
    assert mastery["Advanced"] == pytest.approx(0.3)
    path = LearningPath.objects.get(user=student, course=course)
    steps = list(PathStep.objects.filter(path=path).order_by("position"))
    assert steps[0].kind == "lesson"
    assert steps[0].lesson_id == lesson.pk
    assert steps[0].reason["skill"] == "Basics"
    assert steps[0].reason["prerequisite_of"] == ["Advanced"]


def test_a_task_delivered_twice_has_one_effect(course_setup, django_capture_on_commit_callbacks):
    *_, exercises, student = course_setup
    with django_capture_on_commit_callbacks(execute=True):
        result = attempt_submit(user=student, exercise=exercises[0], answer=42)
    before = bytes(LearnerState.objects.get(user=student).state)

    again = learner_state_update(attempt_id=result.attempt.pk)

    assert again.applied_attempts == 0
    assert bytes(LearnerState.objects.get(user=student).state) == before
    assert LearningPath.objects.filter(user=student).count() == 1


def test_a_missing_attempt_is_tolerated():
    assert learner_state_update(attempt_id=999_999) is None


def test_online_updates_equal_a_batch_replay(course_setup, django_capture_on_commit_callbacks):
    course, *_, exercises, student = course_setup
    answers = [42, 0, 42, 42, 1]
    with django_capture_on_commit_callbacks(execute=True):
        for index, answer in enumerate(answers):
            attempt_submit(user=student, exercise=exercises[index % 3], answer=answer)

    runtime = runtime_for_course(course_id=course.pk)
    history = histories_load(course_id=course.pk, user_ids=[student.pk])[student.pk]
    skills = {exercise.pk: [s.pk for s in exercise.skills.all()] for exercise in exercises}
    states, _ = replay_batch(runtime, [history], skills)

    stored = np.frombuffer(bytes(LearnerState.objects.get(user=student).state), np.float32)
    np.testing.assert_allclose(stored, states[0], atol=1e-6)


def test_a_gru_version_serves_mastery_on_the_known_scale():
    # given a GRU artifact that carries per-skill guess and slip
    rng = np.random.default_rng(0)
    weights = StepWeights(
        cell="gru",
        n_skills=2,
        n_problems=0,
        skill_embeddings=rng.normal(size=(5, 3)).astype(np.float32),
        kernel=rng.normal(size=(3, 12)).astype(np.float32),
        recurrent_kernel=rng.normal(size=(4, 12)).astype(np.float32),
        bias=np.zeros((2, 12), np.float32),
        readout_kernel=rng.normal(size=(4, 2)).astype(np.float32),
        readout_bias=np.array([0.5, 2.0], np.float32),
    )
    emission = BKTParams.default(2, guess=0.2, slip=0.1)
    raw = Runtime(model_version_id=None, kind="gru", skill_ids=(1, 2), step_weights=weights)
    known = Runtime(
        model_version_id=None, kind="gru", skill_ids=(1, 2), step_weights=weights, emission=emission
    )
    state = raw.initial_state()

    # then P(known) = (P(correct) - guess) / (1 - slip - guess), clipped to [0, 1] ...
    correct = raw.mastery(state)
    expected = np.clip((correct - 0.2) / 0.7, 0, 1)
    np.testing.assert_allclose(known.mastery(state), expected, atol=1e-6)
    # ... and predicted success maps back to the model's P(correct) below the clip
    assert known.predicted_success(known.mastery(state), [1]) == pytest.approx(correct[0], 1e-5)


def test_attempts_fold_in_created_at_order_and_a_backdated_one_replays_the_history(course_setup):
    # given: two attempts folded in, then a third stored later but dated before both (an import)
    from datetime import timedelta

    from django.utils import timezone

    from learners.models import Attempt

    course, _basics, _advanced, _lesson, exercises, student = course_setup
    now = timezone.now()

    def attempt(minutes_ago: int, is_correct: bool) -> Attempt:
        return Attempt.objects.create(
            user=student,
            exercise=exercises[0],
            course=course,
            answer=1,
            is_correct=is_correct,
            created_at=now - timedelta(minutes=minutes_ago),
        )

    first, second = attempt(20, False), attempt(10, True)
    learner_state_update(attempt_id=second.pk)
    backdated = attempt(30, True)

    # when
    update = learner_state_update(attempt_id=backdated.pk)

    # then: the whole history was replayed in (created_at, id) order, as training orders it
    assert update.applied_attempts == 3
    state = LearnerState.objects.get(user=student, course=course)
    assert (state.last_attempt_id, state.attempts_count) == (backdated.pk, 3)
    runtime = runtime_for_course(course_id=course.pk)
    history = histories_load(course_id=course.pk, user_ids=[student.pk])[student.pk]
    assert history.correct == (True, False, True)  # backdated, first, second
    assert history.last_attempt_id == backdated.pk
    skills = {exercises[0].pk: [skill.pk for skill in exercises[0].skills.all()]}
    states, _mastery = replay_batch(runtime, [history], skills)
    np.testing.assert_allclose(
        np.frombuffer(bytes(state.state), dtype=np.float32), states[0], atol=1e-6
    )
    # and a repeated delivery changes nothing
    assert learner_state_update(attempt_id=first.pk).applied_attempts == 0
