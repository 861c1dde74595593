"""Migration adaptive 0009: SkillMastery rows become one vector per learner and course, and back."""

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("adaptive", "0008_skill_mastery_plural")
AFTER = ("adaptive", "0009_mastery_vector_on_learner_state")


def _migrate(adaptive_target):
    """Migrate adaptive to the target (None: its latest), every other app to its latest; the
    apps at that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    leaves = executor.loader.graph.leaf_nodes()
    targets = [node for node in leaves if node[0] != "adaptive" or adaptive_target is None]
    if adaptive_target is not None:
        targets.append(adaptive_target)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_rows_are_folded_into_vectors_and_expanded_back():
    try:
        _rows_are_folded_into_vectors_and_expanded_back()
    finally:
        _migrate(None)  # the next tests need the current schema (every later migration too)


def _rows_are_folded_into_vectors_and_expanded_back():
    apps = _migrate(BEFORE)
    User = apps.get_model("learners", "User")
    Course = apps.get_model("courses", "Course")
    Skill = apps.get_model("courses", "Skill")
    SkillMastery = apps.get_model("adaptive", "SkillMastery")
    LearnerState = apps.get_model("adaptive", "LearnerState")
    owner = User.objects.create(username="owner")
    learner = User.objects.create(username="learner")
    stateless = User.objects.create(username="stateless")
    course = Course.objects.create(slug="c", title="C", owner=owner)
    skills = [Skill.objects.create(course=course, name=f"S{i}") for i in range(3)]
    LearnerState.objects.create(user=learner, course=course, state=b"\x00" * 12)
    for user, values in ((learner, [0.25, 0.5, 0.75]), (stateless, [0.125, 0.0, 1.0])):
        for skill, value in zip(skills, values, strict=True):
            SkillMastery.objects.create(user=user, skill=skill, course=course, probability=value)

    apps = _migrate(AFTER)

    LearnerState = apps.get_model("adaptive", "LearnerState")
    rows = {row.user_id: row for row in LearnerState.objects.all()}
    assert set(rows) == {learner.pk, stateless.pk}
    # the learner's state is kept; a learner with rows but no state gets an empty one
    assert bytes(rows[learner.pk].state) == b"\x00" * 12
    assert bytes(rows[stateless.pk].state) == b""
    for user_id, values in ((learner.pk, [0.25, 0.5, 0.75]), (stateless.pk, [0.125, 0.0, 1.0])):
        assert np.frombuffer(bytes(rows[user_id].mastery), "<f4").tolist() == values
        assert np.frombuffer(bytes(rows[user_id].mastery_skill_ids), "<i8").tolist() == [
            skill.pk for skill in skills
        ]

    apps = _migrate(BEFORE)

    SkillMastery = apps.get_model("adaptive", "SkillMastery")
    assert sorted(SkillMastery.objects.values_list("user_id", "skill_id", "probability")) == sorted(
        [(learner.pk, s.pk, v) for s, v in zip(skills, [0.25, 0.5, 0.75], strict=True)]
        + [(stateless.pk, s.pk, v) for s, v in zip(skills, [0.125, 0.0, 1.0], strict=True)]
    )
