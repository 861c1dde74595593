import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adaptive.exceptions import ModelArtifactError, ModelVersionStateError, RollbackError
from adaptive.ml.dkt import DKTConfig, dkt_build
from adaptive.ml.sequences import sequences_subset, windows_build
from adaptive.ml.training import TrainConfig, dkt_train
from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.model_registry import (
    artifact_directory,
    attempts_export,
    learner_split,
    model_version_activate,
    model_version_evaluate,
    model_version_gate,
    model_version_register,
    model_version_rollback,
    model_version_train,
)
from learners.models import Attempt
from tests.adaptive.conftest import ATTEMPTS_PER_LEARNER, N_LEARNERS, N_SKILLS, PlantedCourse
from tests.factories import ExerciseFactory

pytestmark = pytest.mark.django_db

SMALL_GRU = {"hidden_units": 16, "embedding_dim": 8, "learning_rate": 0.01, "batch_size": 16}


def statuses(course) -> dict[int, str]:
    return dict(ModelVersion.objects.filter(course=course).values_list("pk", "status"))


def test_export_streams_attempts_in_learner_and_time_order(
    planted: PlantedCourse, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        export = attempts_export(course=planted.course)
    assert export.n_attempts == N_LEARNERS * ATTEMPTS_PER_LEARNER
    assert export.skill_vocabulary == sorted(skill.pk for skill in planted.skills)
    assert export.problem_vocabulary == sorted(exercise.pk for exercise in planted.exercises)
    assert (np.diff(export.user_ids) >= 0).all()
    assert export.data_cutoff == Attempt.objects.order_by("-created_at").first().created_at


def test_attempts_without_a_skill_are_dropped_and_counted(planted: PlantedCourse):
    bare = ExerciseFactory(course=planted.course)
    Attempt.objects.create(
        user=planted.learners[0], exercise=bare, course=planted.course, answer=1, is_correct=True
    )
    sequences = attempts_export(course=planted.course).sequences()
    assert sequences.report.dropped_without_skill == 1
    assert sequences.n_attempts == N_LEARNERS * ATTEMPTS_PER_LEARNER


def test_the_learner_split_is_disjoint(planted: PlantedCourse):
    split = learner_split(export=attempts_export(course=planted.course))
    groups = [set(split.train), set(split.validation), set(split.holdout)]
    assert sum(len(group) for group in groups) == N_LEARNERS
    assert not groups[0] & groups[1]
    assert not groups[0] & groups[2]
    assert not groups[1] & groups[2]
    assert len(split.holdout) > 0


def test_the_first_trained_model_of_a_scope_is_promoted(planted: PlantedCourse):
    run = model_version_train(course=planted.course, kind="bkt")
    version = run.model_version
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.outcome == "promoted"
    assert version.status == ModelVersion.Status.ACTIVE
    assert version.activated_at is not None
    assert version.metrics["auc"] > 0.75
    assert version.metrics["gate"]["reason"] == "no active model in this scope"
    assert (artifact_directory(version) / "bkt.json").is_file()
    assert version.counts["attempts"] == N_LEARNERS * ATTEMPTS_PER_LEARNER
    assert version.skill_vocabulary == sorted(skill.pk for skill in planted.skills)


def test_a_gru_is_trained_registered_and_judged_end_to_end(planted: PlantedCourse):
    progress: list[str] = []
    run = model_version_train(
        course=planted.course,
        kind="gru",
        epochs=6,
        device="cpu",
        hyperparameters=SMALL_GRU,
        on_progress=lambda stage, info: progress.append(stage),
    )
    version = run.model_version
    assert version.status == ModelVersion.Status.ACTIVE
    assert version.device == "cpu"
    assert version.metrics["auc"] > 0.8
    assert progress[:3] == ["export", "train", "epoch"]
    assert progress[-2:] == ["gate", "done"]
    assert run.progress["stage"] == "done"
    assert sorted(p.name for p in artifact_directory(version).iterdir()) == [
        "metadata.json",
        "model.keras",
        "step_weights.npz",
    ]
    assert model_version_evaluate(version=version)["auc"] == pytest.approx(version.metrics["auc"])


def test_the_gate_rejects_a_model_trained_on_shuffled_labels(planted: PlantedCourse):
    # given an active model trained on the real answers
    champion = model_version_train(course=planted.course, kind="bkt").model_version
    export = attempts_export(course=planted.course)
    split = learner_split(export=export)
    sequences = export.sequences()
    shuffled = sequences_subset(sequences, split.train)
    rng = np.random.default_rng(0)
    object.__setattr__(shuffled, "correct", rng.permutation(shuffled.correct))
    result = dkt_train(
        windows_build(shuffled),
        None,
        config=TrainConfig(epochs=3, **SMALL_GRU),
    )
    candidate = model_version_register(
        course=planted.course,
        kind="gru",
        model=result.model,
        skill_vocabulary=export.skill_vocabulary,
        problem_vocabulary=export.problem_vocabulary,
    )
    # when
    decision = model_version_gate(
        candidate=candidate, export=export, holdout_learner_ids=split.holdout
    )
    # then
    candidate.refresh_from_db()
    assert decision.promoted is False
    assert candidate.status == ModelVersion.Status.REJECTED
    assert candidate.rejection_reason.startswith("below the active model: AUC 0.")
    assert decision.candidate_metrics["auc"] < decision.active_metrics["auc"] - 0.1
    assert statuses(planted.course) == {
        champion.pk: ModelVersion.Status.ACTIVE,
        candidate.pk: ModelVersion.Status.REJECTED,
    }


def test_the_gate_rejects_non_finite_outputs(planted: PlantedCourse):
    export = attempts_export(course=planted.course)
    model = dkt_build(DKTConfig(n_skills=N_SKILLS, embedding_dim=4, hidden_units=4))
    kernel, bias = model.get_layer("skill_logits").get_weights()
    model.get_layer("skill_logits").set_weights([kernel * np.nan, bias])
    candidate = model_version_register(
        course=planted.course,
        kind="gru",
        model=model,
        skill_vocabulary=export.skill_vocabulary,
        problem_vocabulary=export.problem_vocabulary,
    )
    decision = model_version_gate(
        candidate=candidate, export=export, holdout_learner_ids=learner_split(export=export).holdout
    )
    candidate.refresh_from_db()
    assert decision.promoted is False
    assert candidate.status == ModelVersion.Status.REJECTED
    assert candidate.rejection_reason == "outputs are not all finite"
    assert candidate.activated_at is None


def test_an_equally_good_candidate_replaces_the_active_version(planted: PlantedCourse):
    first = model_version_train(course=planted.course, kind="bkt").model_version
    second = model_version_train(course=planted.course, kind="bkt").model_version
    assert statuses(planted.course) == {
        first.pk: ModelVersion.Status.RETIRED,
        second.pk: ModelVersion.Status.ACTIVE,
    }
    assert second.metrics["gate"]["active_version_id"] == first.pk


def test_rollback_reactivates_the_previous_version_then_runs_out(planted: PlantedCourse):
    first = model_version_train(course=planted.course, kind="bkt").model_version
    second = model_version_train(course=planted.course, kind="bkt").model_version
    restored = model_version_rollback(course=planted.course)
    assert restored.pk == first.pk
    second.refresh_from_db()
    assert second.status == ModelVersion.Status.REJECTED
    assert second.rejection_reason.startswith("rolled back on ")
    with pytest.raises(RollbackError, match="no earlier model version"):
        model_version_rollback(course=planted.course)
    assert statuses(planted.course) == {
        first.pk: ModelVersion.Status.ACTIVE,
        second.pk: ModelVersion.Status.REJECTED,
    }


def test_activation_refuses_a_rejected_version_unless_forced(planted: PlantedCourse):
    first = model_version_train(course=planted.course, kind="bkt").model_version
    second = model_version_train(course=planted.course, kind="bkt").model_version
    model_version_rollback(course=planted.course)
    with pytest.raises(ModelVersionStateError, match="is rejected and cannot be activated"):
        model_version_activate(version=second)
    assert statuses(planted.course)[first.pk] == ModelVersion.Status.ACTIVE
    model_version_activate(version=second, allow_rejected=True)
    assert statuses(planted.course) == {
        first.pk: ModelVersion.Status.RETIRED,
        second.pk: ModelVersion.Status.ACTIVE,
    }


def test_activation_refuses_a_tampered_artifact(planted: PlantedCourse):
    first = model_version_train(course=planted.course, kind="bkt").model_version
    second = model_version_train(course=planted.course, kind="bkt").model_version
    model_version_activate(version=first)
    (artifact_directory(second) / "bkt.json").write_text('{"tampered": true}')
    with pytest.raises(ModelArtifactError, match="artifact refused"):
        model_version_activate(version=second)
    assert statuses(planted.course) == {
        first.pk: ModelVersion.Status.ACTIVE,
        second.pk: ModelVersion.Status.RETIRED,
    }


def test_a_failed_run_is_recorded_and_leaves_the_active_version(planted: PlantedCourse):
    champion = model_version_train(course=planted.course, kind="bkt").model_version
    Attempt.objects.filter(course=planted.course).update(is_correct=True)
    with pytest.raises(Exception, match="need both correct and incorrect answers"):
        model_version_train(course=planted.course, kind="bkt")
    failed = TrainingRun.objects.order_by("-pk").first()
    assert failed.status == TrainingRun.Status.FAILED
    assert "TrainingDataError" in failed.error
    assert statuses(planted.course) == {champion.pk: ModelVersion.Status.ACTIVE}


def test_scopes_are_independent(planted: PlantedCourse):
    course_version = model_version_train(course=planted.course, kind="bkt").model_version
    global_version = model_version_train(course=None, kind="bkt").model_version
    assert course_version.status == ModelVersion.Status.ACTIVE
    assert global_version.status == ModelVersion.Status.ACTIVE
    assert global_version.course is None


def test_the_registry_services_do_not_import_tensorflow():
    code = (
        "import sys, django; django.setup();"
        "import adaptive.services.model_registry, adaptive.selectors, adaptive.admin;"
        "import adaptive.management.commands.train_model;"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_a_queued_run_is_trained_for_its_own_scope_and_kind(planted: PlantedCourse):
    queued = TrainingRun.objects.create(
        course=planted.course, kind="bkt", trigger=TrainingRun.Trigger.SCHEDULE
    )
    run = model_version_train(run=queued)
    assert run.pk == queued.pk
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.started_at is not None
    assert run.model_version.kind == "bkt"
    assert run.model_version.course == planted.course
