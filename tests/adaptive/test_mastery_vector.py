"""Raw mastery stored as one vector per learner and course (LearnerState.mastery, issue 11)."""

import numpy as np
import pytest
from django.db import connections

from adaptive.display_store import class_shown, learner_shown, shown_raw
from adaptive.models import (
    LearnerState,
    LearningPath,
    MasteryDisplay,
    mastery_decode,
    mastery_encode,
)
from adaptive.selectors import histories_load, mastery_raw_for_learner, mastery_raw_load
from adaptive.services.learning_paths import course_graph_load, path_refresh, path_refresh_chunk
from adaptive.serving import runtime_for_course
from learners.models import Attempt
from tests.adaptive.conftest import course_with_history
from tests.factories import (
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_vector_round_trips_exactly_in_float32_with_its_skill_ids():
    values = np.array([0.0, 0.3, 1.0, 0.123456789], dtype=np.float64)

    mastery, skill_ids = mastery_encode([7, 3, 2**40, 11], values)

    assert len(mastery) == 4 * 4
    assert len(skill_ids) == 4 * 8
    decoded = mastery_decode(mastery, skill_ids)
    assert list(decoded) == [7, 3, 2**40, 11]
    assert decoded == {
        skill_id: float(np.float32(value))
        for skill_id, value in zip([7, 3, 2**40, 11], values, strict=True)
    }
    # nothing stored, or a vector that does not match its ids, reads as no estimate at all
    assert mastery_decode(b"", b"") == {}
    assert mastery_decode(mastery[:4], skill_ids) == {}
    with pytest.raises(ValueError, match="one mastery value per skill"):
        mastery_encode([1, 2], np.array([0.5]))


@pytest.fixture
def course_with_learners():
    course, skills, exercises, learners = course_with_history(learners=5, seed=5, attempts=(1, 7))
    return course, skills, exercises, learners


def test_the_refresh_stores_each_learners_vector_over_the_course_skills(course_with_learners):
    course, skills, _, learners = course_with_learners

    path_refresh(course_id=course.pk, chunk_size=2)

    raw = mastery_raw_load(course_id=course.pk, user_ids=[learner.pk for learner in learners])
    assert set(raw) == {learner.pk for learner in learners}
    for learner in learners:
        assert list(raw[learner.pk]) == [skill.pk for skill in skills]
        assert all(0.0 <= value <= 1.0 for value in raw[learner.pk].values())
        assert raw[learner.pk] == mastery_raw_for_learner(user_id=learner.pk, course_id=course.pk)
        # the API's model_probability is the same value, rounded once
        assert shown_raw(user_id=learner.pk, course_id=course.pk) == {
            skill_id: round(value, 4) for skill_id, value in raw[learner.pk].items()
        }
    # a learner with no stored state reads as "no estimate"
    outsider = UserFactory()
    assert mastery_raw_load(course_id=course.pk, user_ids=[outsider.pk]) == {outsider.pk: {}}


def test_a_skill_added_after_a_refresh_has_no_estimate_until_the_next(course_with_learners):
    course, skills, _, learners = course_with_learners
    path_refresh(course_id=course.pk)
    learner = learners[0]

    # given a skill added and one removed after the vectors were written
    added = SkillFactory(course=course, name="Added later")
    removed_id = skills[2].pk
    skills[2].delete()

    # then readers show the added one without an estimate and ignore the removed one
    assert added.pk not in mastery_raw_for_learner(user_id=learner.pk, course_id=course.pk)
    shown = {
        item.skill_id: item
        for item in learner_shown(user_id=learner.pk, course_id=course.pk).skills
    }
    assert set(shown) == {skills[0].pk, skills[1].pk, added.pk}
    assert shown[added.pk].estimate_percent is None
    assert set(class_shown(course_id=course.pk, user_ids=[learner.pk])[learner.pk]) == set(shown)

    # and the next refresh writes the course's skills as they are now
    path_refresh(course_id=course.pk)
    stored = mastery_raw_for_learner(user_id=learner.pk, course_id=course.pk)
    assert list(stored) == [skills[0].pk, skills[1].pk, added.pk]
    assert removed_id not in stored


def test_the_online_update_rewrites_the_vector_with_the_state(course_with_learners):
    from adaptive.services.knowledge_state import learner_state_update

    course, skills, exercises, learners = course_with_learners
    path_refresh(course_id=course.pk)
    learner = learners[1]
    before = mastery_raw_for_learner(user_id=learner.pk, course_id=course.pk)

    attempt = Attempt.objects.create(
        user=learner, exercise=exercises[1], course=course, answer=1, is_correct=True
    )
    learner_state_update(attempt_id=attempt.pk)

    after = mastery_raw_for_learner(user_id=learner.pk, course_id=course.pk)
    assert list(after) == [skill.pk for skill in skills]
    assert after[skills[1].pk] > before[skills[1].pk]  # BKT: a right answer raises it
    assert after[skills[0].pk] == before[skills[0].pk]
    state = LearnerState.objects.get(user=learner, course=course)
    assert state.last_attempt_id == attempt.pk


def test_a_chunk_replaces_only_its_learners_in_one_version(course_with_learners):
    course, _, _, learners = course_with_learners
    runtime = runtime_for_course(course_id=course.pk)
    graph = course_graph_load(course_id=course.pk)
    chosen = [learners[0].pk, learners[3].pk]

    rows = path_refresh_chunk(course_id=course.pk, user_ids=chosen, runtime=runtime, graph=graph)

    assert sorted(LearnerState.objects.values_list("user_id", flat=True)) == sorted(chosen)
    assert sorted(LearningPath.objects.values_list("user_id", flat=True)) == sorted(chosen)
    assert sorted(MasteryDisplay.objects.values_list("user_id", flat=True)) == sorted(chosen)
    assert rows > 3 * len(chosen)
    # delivered twice: the same rows, nothing added
    snapshot = _stored(course)
    path_refresh_chunk(course_id=course.pk, user_ids=chosen, runtime=runtime, graph=graph)
    assert _stored(course) == snapshot
    assert path_refresh_chunk(course_id=course.pk, user_ids=[], runtime=runtime, graph=graph) == 0


def _stored(course) -> dict:
    return {
        "states": sorted(
            (row.user_id, bytes(row.state), bytes(row.mastery), row.last_attempt_id)
            for row in LearnerState.objects.filter(course=course)
        ),
        "displays": sorted(
            MasteryDisplay.objects.filter(course=course).values_list("user_id", "state")
        ),
        "steps": sorted(
            LearningPath.objects.filter(course=course).values_list(
                "user_id", "steps__position", "steps__kind", "steps__reason"
            ),
            key=repr,
        ),
    }


def test_the_portable_code_path_stores_what_the_postgresql_one_does(
    course_with_learners, monkeypatch
):
    """`make run` uses SQLite: the branches for other databases (placeholders instead of an
    array, bulk_create instead of COPY and upserts) give the same rows."""
    course, _, _, learners = course_with_learners
    ids = [learner.pk for learner in learners]
    path_refresh(course_id=course.pk)
    on_postgresql = _stored(course)
    histories = histories_load(course_id=course.pk, user_ids=ids)

    monkeypatch.setattr(type(connections["default"]), "vendor", "sqlite")
    assert histories_load(course_id=course.pk, user_ids=ids) == histories
    path_refresh(course_id=course.pk)
    monkeypatch.undo()

    assert _stored(course) == on_postgresql
