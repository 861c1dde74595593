"""Path refresh: every learner of a course re-planned in chunks, with bulk writes."""

import numpy as np
import pytest
from django.utils import timezone

from adaptive.ml.artifacts import artifact_save
from adaptive.ml.bkt import BKTParams
from adaptive.models import LearnerState, LearningPath, ModelVersion, PathStep
from adaptive.selectors import mastery_raw_load
from adaptive.services import learning_paths as paths
from adaptive.services.knowledge_state import learner_state_apply
from adaptive.services.learning_paths import path_refresh
from adaptive.serving import runtime_for_course
from learners.bulk import rows_insert
from learners.models import Attempt
from tests.adaptive.conftest import course_with_history
from tests.factories import (
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course_with_learners():
    course, skills, _exercises, learners = course_with_history(learners=7, seed=3, attempts=(0, 6))
    return course, skills, learners


def test_refresh_writes_state_mastery_and_path_for_every_learner(course_with_learners):
    course, _, learners = course_with_learners
    progress = []

    result = path_refresh(
        course_id=course.pk,
        chunk_size=3,
        on_progress=lambda done, total: progress.append((done, total)),
    )

    assert (result.learners, result.model_version_id) == (7, None)
    assert progress == [(3, 7), (6, 7), (7, 7)]
    assert LearnerState.objects.filter(course=course).count() == 7
    raw = mastery_raw_load(course_id=course.pk, user_ids=[learner.pk for learner in learners])
    assert {len(skills) for skills in raw.values()} == {3}
    assert LearningPath.objects.filter(course=course).count() == 7
    # states (with mastery), shown mastery of each learner, paths and their steps
    steps = PathStep.objects.filter(path__course=course).count()
    assert result.rows == 7 + 7 + 7 + steps


def test_refresh_equals_the_online_update_for_each_learner(course_with_learners):
    course, _, learners = course_with_learners
    path_refresh(course_id=course.pk, chunk_size=4)
    refreshed = {
        row.user_id: np.frombuffer(bytes(row.state), np.float32)
        for row in LearnerState.objects.filter(course=course)
    }

    LearnerState.objects.all().delete()
    for learner in learners:
        learner_state_apply(user_id=learner.pk, course_id=course.pk)

    for row in LearnerState.objects.filter(course=course):
        np.testing.assert_allclose(
            np.frombuffer(bytes(row.state), np.float32), refreshed[row.user_id], atol=1e-6
        )


def test_a_promotion_refresh_replaces_every_row_with_the_new_version(
    course_with_learners, settings, tmp_path
):
    course, skills, _ = course_with_learners
    path_refresh(course_id=course.pk)
    old_paths = set(LearningPath.objects.values_list("pk", flat=True))
    # given a trained BKT version for the course becomes active
    settings.PATHWISE_MODEL_ROOT = tmp_path
    params = BKTParams.default(3, prior=0.5, learn=0.2)
    metadata = artifact_save(tmp_path / "bkt", metadata={}, bkt=params)
    version = ModelVersion.objects.create(
        course=course,
        kind="bkt",
        status="active",
        activated_at=timezone.now(),
        skill_vocabulary=[skill.pk for skill in skills],
        artifact_path="bkt",
        artifact_sha256=metadata.sha256,
        manifest_sha256=metadata.manifest_sha256,
    )

    result = path_refresh(course_id=course.pk)

    # then no row of the old version is left, and none is mixed
    assert result.model_version_id == version.pk
    assert set(LearnerState.objects.values_list("model_version", flat=True)) == {version.pk}
    assert set(LearningPath.objects.values_list("model_version", flat=True)) == {version.pk}
    assert LearningPath.objects.count() == len(old_paths)
    assert set(PathStep.objects.values_list("path__model_version", flat=True).distinct()) == {
        version.pk
    }
    assert runtime_for_course(course_id=course.pk).model_version_id == version.pk


def test_an_attempt_stored_while_a_chunk_is_computed_is_handed_on(
    course_with_learners, monkeypatch, django_capture_on_commit_callbacks
):
    course, _, learners = course_with_learners
    exercise = course.exercises.first()
    read_histories = paths.histories_load
    late = []

    def read_then_answer(**kwargs):
        # given an attempt that arrives after the chunk's histories were read
        histories = read_histories(**kwargs)
        late.append(
            Attempt.objects.create(
                user=learners[0], exercise=exercise, course=course, answer=1, is_correct=True
            )
        )
        return histories

    monkeypatch.setattr(paths, "histories_load", read_then_answer)
    handed = []

    with django_capture_on_commit_callbacks(execute=True):
        path_refresh(course_id=course.pk, chunk_size=100, enqueue_catch_up=handed.append)

    # then the refresh stored the state without it, and queued its update after commit
    assert handed == [late[0].pk]
    state = LearnerState.objects.get(user=learners[0], course=course)
    assert state.last_attempt_id != late[0].pk


def test_rows_insert_escapes_copy_text():
    learner = UserFactory()
    course = CourseFactory()
    skill = SkillFactory(course=course)
    lesson = LessonFactory(module=ModuleFactory(course=course))
    path = LearningPath.objects.create(user=learner, course=course)

    rows_insert(
        PathStep,
        ["path", "position", "kind", "skill", "lesson", "reason"],
        [(path.pk, 1, "lesson", skill.pk, lesson.pk, {"skill": "tab\there\\ and\nnew line"})],
    )

    assert PathStep.objects.get().reason == {"skill": "tab\there\\ and\nnew line"}
