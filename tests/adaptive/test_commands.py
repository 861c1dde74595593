from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from adaptive.models import ModelVersion, TrainingRun
from tests.adaptive.conftest import PlantedCourse

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_train_model_trains_registers_and_reports_the_decision(planted: PlantedCourse):
    output = run("train_model", "--kind", "bkt", "--course", planted.course.slug)
    version = ModelVersion.objects.get()
    assert f"Promoted: version {version.pk} is active." in output
    assert "held out)" in output
    assert version.course == planted.course


def test_train_model_shows_a_progress_bar_for_the_gru(planted: PlantedCourse):
    output = run(
        "train_model", "--course", str(planted.course.pk), "--epochs", "1", "--device", "cpu"
    )
    assert "gru_skills [" in output
    assert "gru_problems [" in output
    assert "] epoch 1/1 loss " in output
    version = ModelVersion.objects.get()
    assert f"Selected {version.hyperparameters['selection']['chosen']}: " in output
    assert "95% CI 0." in output
    assert "bootstrap over" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--course", "no-such-course"], "No course with slug or id 'no-such-course'."),
        (["--course", "999999"], "No course with slug or id '999999'."),
        (["--epochs", "0"], "--epochs must be at least 1."),
        (["--kind", "bkt", "--epochs", "3"], "--epochs, --learning-rate and --variant apply"),
        (["--kind", "bkt", "--learning-rate", "0.01"], "apply to --kind gru only"),
        (["--learning-rate", "0"], "--learning-rate must be between 0 and 1."),
        (["--variant", "transformer"], "invalid choice: 'transformer'"),
        (["--kind", "lstm"], "invalid choice: 'lstm'"),
        (["--device", "tpu"], "invalid choice: 'tpu'"),
    ],
)
def test_train_model_refuses_bad_arguments(planted: PlantedCourse, arguments, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run("train_model", *arguments)
    assert not ModelVersion.objects.exists()
    assert not TrainingRun.objects.exists()


def _gpu_visible() -> bool:
    # The training module, imported only here: it loads the Keras backend (tests may, the web not).
    from adaptive.ml.training import accelerators_visible

    return bool(accelerators_visible())


def test_train_model_explains_a_gpu_that_is_not_there(planted: PlantedCourse):
    if _gpu_visible():
        pytest.skip("a GPU is visible here, so --device gpu is a valid request")
    with pytest.raises(CommandError, match="a GPU was requested but none is visible"):
        run("train_model", "--course", planted.course.slug, "--device", "gpu", "--epochs", "1")
    assert TrainingRun.objects.get().status == TrainingRun.Status.FAILED
    assert not ModelVersion.objects.exists()


def test_train_model_explains_missing_data(db):
    with pytest.raises(CommandError, match="not enough data"):
        run("train_model", "--kind", "bkt")


def test_activate_evaluate_rollback_and_list(planted: PlantedCourse):
    slug = planted.course.slug
    run("train_model", "--kind", "bkt", "--course", slug)
    run("train_model", "--kind", "bkt", "--course", slug)
    first, second = ModelVersion.objects.order_by("pk")
    assert "auc " in run("evaluate_model", str(second.pk))
    assert f"model version {first.pk} is active" in run("rollback_model", "--course", slug)
    listing = run("list_models", "--course", slug)
    assert f"{first.pk:>5} {slug:<20} bkt   active" in listing
    assert "rolled back on" in listing
    assert f"Model version {second.pk} is active" in run(
        "activate_model", str(second.pk), "--force"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["activate_model", "424242"], "No model version with id 424242."),
        (["evaluate_model", "424242"], "No model version with id 424242."),
        (["activate_model", "abc"], "invalid int value: 'abc'"),
        (["rollback_model"], "no earlier model version to roll back to in the global scope"),
        (["rollback_model", "--course", "nope"], "No course with slug or id 'nope'."),
        (["list_models", "--status", "dead"], "invalid choice: 'dead'"),
    ],
)
def test_registry_commands_refuse_bad_arguments(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        run(*arguments)


def test_activate_model_refuses_a_rejected_version(planted: PlantedCourse):
    slug = planted.course.slug
    run("train_model", "--kind", "bkt", "--course", slug)
    run("train_model", "--kind", "bkt", "--course", slug)
    run("rollback_model", "--course", slug)
    rejected = ModelVersion.objects.get(status=ModelVersion.Status.REJECTED)
    with pytest.raises(CommandError, match="is rejected and cannot be activated"):
        run("activate_model", str(rejected.pk))
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE).pk != rejected.pk
