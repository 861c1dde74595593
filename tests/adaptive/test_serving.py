"""Serving: an artifact that fails verification is never loaded; the last verified one serves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from adaptive.ml.artifacts import artifact_save
from adaptive.ml.bkt import BKTParams
from adaptive.models import LearnerState, LearningPath, ModelVersion
from adaptive.services.knowledge_state import learner_state_update
from adaptive.serving import COLD_START_KIND, runtime_resolve, serving_status
from learners.models import Attempt
from tests.factories import CourseFactory, ExerciseFactory, SkillFactory, UserFactory

pytestmark = pytest.mark.django_db


def bkt_version(course, skills, directory, name, *, status, activated_minutes_ago):
    saved = artifact_save(
        directory / name, metadata={}, bkt=BKTParams.default(len(skills), prior=0.4)
    )
    return ModelVersion.objects.create(
        course=course,
        kind="bkt",
        status=status,
        activated_at=timezone.now() - timedelta(minutes=activated_minutes_ago),
        skill_vocabulary=[skill.pk for skill in skills],
        artifact_path=name,
        artifact_sha256=saved.sha256,
        manifest_sha256=saved.manifest_sha256,
    )


@pytest.fixture
def served_course(settings, tmp_path):
    settings.PATHWISE_MODEL_ROOT = tmp_path
    course = CourseFactory()
    skills = [SkillFactory(course=course) for _ in range(3)]
    older = bkt_version(course, skills, tmp_path, "v1", status="retired", activated_minutes_ago=60)
    active = bkt_version(course, skills, tmp_path, "v2", status="active", activated_minutes_ago=5)
    return course, skills, older, active


def test_the_active_version_serves_when_its_artifact_verifies(served_course):
    course, _, _, active = served_course
    status = serving_status(course_id=course.pk)
    assert (status.served_version_id, status.fallback) == (active.pk, False)


@pytest.mark.parametrize("damage", ["edit parameters", "blank hash", "delete file"])
def test_a_refused_active_artifact_falls_back_to_the_last_verified_version(
    served_course, damage, caplog
):
    course, skills, older, active = served_course
    # given the active version's artifact is damaged in one of three ways
    parameters = next(
        p
        for p in active.artifact_directory.iterdir()
        if p.name not in ("metadata.json", "manifest.json")
    )
    if damage == "edit parameters":
        parameters.write_bytes(parameters.read_bytes().replace(b"0.4", b"0.9"))
    elif damage == "blank hash":
        ModelVersion.objects.filter(pk=active.pk).update(manifest_sha256="")
    else:
        parameters.unlink()

    runtime, status = runtime_resolve(course_id=course.pk)

    # then the previous verified version serves, and the status says why
    assert runtime.model_version_id == older.pk
    assert status.fallback
    assert status.active_version_id == active.pk
    assert f"model version {active.pk} artifact refused" in status.reason
    assert f"serving the last verified version {older.pk}" in status.reason
    assert any("falls back" in record.message for record in caplog.records)

    # and an online update goes on with it: state, mastery and path from one verified version
    learner = UserFactory()
    exercise = ExerciseFactory(course=course)
    exercise.skills.set(skills[:1])
    attempt = Attempt.objects.create(
        user=learner, exercise=exercise, course=course, answer=1, is_correct=True
    )
    assert learner_state_update(attempt_id=attempt.pk).model_version_id == older.pk
    # the raw mastery lives on the state row, so it carries the state's version
    state = LearnerState.objects.get(user=learner)
    assert state.model_version_id == older.pk
    assert len(bytes(state.mastery)) == 4 * len(skills)
    assert LearningPath.objects.get(user=learner).model_version_id == older.pk


def test_with_no_verified_version_left_the_cold_start_serves(served_course):
    course, _, older, active = served_course
    ModelVersion.objects.filter(pk__in=[older.pk, active.pk]).update(manifest_sha256="")
    runtime, status = runtime_resolve(course_id=course.pk)
    assert (runtime.kind, runtime.model_version_id) == (COLD_START_KIND, None)
    assert status.fallback
    assert "cold-start" in status.reason
    assert len(status.refused) == 2
