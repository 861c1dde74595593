import math

import keras
import numpy as np
import pytest

from adaptive.ml.dkt import (
    DKTConfig,
    StepBinaryCrossentropy,
    dkt_build,
    dkt_compile,
    dkt_config_from_model,
)
from adaptive.ml.inference import windows_evaluate, windows_predict
from adaptive.ml.sequences import Windows
from adaptive.ml.training import TrainConfig, TrainResult, device_resolve, dkt_train


def test_the_gru_learns_a_planted_pattern(trained_gru: TrainResult, planted_split: dict):
    summary = windows_evaluate(trained_gru.model, planted_split["test"])
    assert summary["auc"] > 0.8
    assert summary["finite"] == 1.0


def test_training_reports_progress_every_epoch(planted_split: dict):
    seen: list[tuple[int, set]] = []
    result = dkt_train(
        planted_split["train_sequences"],
        planted_split["validation_sequences"],
        config=TrainConfig(embedding_dim=4, hidden_units=4, epochs=2, batch_size=64, patience=5),
        on_epoch=lambda epoch, logs: seen.append((epoch, set(logs))),
    )
    keys = {"loss", "val_auc", "seconds", "state_seconds", "interactions_per_second"}
    assert seen == [(1, keys), (2, keys)]
    assert len(result.history) == 2
    assert result.device == "cpu"


def inputs_with_state(windows: Windows, rows=None, steps=None) -> dict:
    inputs = windows.model_inputs(rows, steps)
    inputs["initial_state"] = np.zeros((len(inputs["interactions"]), 16), dtype=np.float32)
    return inputs


def test_padding_does_not_change_predictions(trained_gru: TrainResult, planted_split: dict):
    # given the same windows padded to 30 and to 80 steps
    test: Windows = planted_split["test"]
    short = trained_gru.model.predict_on_batch(inputs_with_state(test, np.arange(4), 30))
    padded_inputs = {
        name: array
        if name == "initial_state"
        else np.pad(array, [(0, 0), (0, 50)] + [(0, 0)] * (array.ndim - 2))
        for name, array in inputs_with_state(test, np.arange(4), 30).items()
    }
    # when
    long = trained_gru.model.predict_on_batch(padded_inputs)
    # then the real steps are unchanged: the mask stops padding from reaching the GRU state
    np.testing.assert_allclose(np.asarray(long)[:, :30], np.asarray(short), atol=1e-6)


def test_bucketed_prediction_matches_full_width_prediction(
    trained_gru: TrainResult, planted_split: dict
):
    test: Windows = planted_split["test"]
    bucketed = windows_predict(trained_gru.model, test, batch_size=7)
    full = np.asarray(trained_gru.model.predict_on_batch(inputs_with_state(test)))
    mask = test.labels >= 0
    np.testing.assert_allclose(bucketed[mask], full[mask], atol=1e-6)


def test_the_lstm_cell_is_an_option_and_the_config_round_trips():
    config = DKTConfig(n_skills=5, n_problems=3, embedding_dim=4, hidden_units=6, cell="lstm")
    model = dkt_compile(dkt_build(config))
    assert isinstance(model.get_layer("recurrent"), keras.layers.LSTM)
    assert dkt_config_from_model(model) == config


def test_the_gru_keeps_cudnn_compatible_settings():
    gru = dkt_build(DKTConfig(n_skills=4)).get_layer("recurrent")
    assert gru.cell.activation is keras.activations.tanh
    assert gru.cell.recurrent_activation is keras.activations.sigmoid
    assert gru.cell.reset_after is True
    assert gru.cell.recurrent_dropout == 0
    assert gru.unroll is False


def test_an_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell must be"):
        dkt_build(DKTConfig(n_skills=4, cell="rnn"))


def test_device_choice_is_validated():
    assert device_resolve("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        device_resolve("tpu")


def test_the_loss_counts_only_weighted_steps():
    # given a target, a wrong target and a padded step whose sample weight is 0
    labels = np.array([[1.0, 0.0, 0.0]])
    predictions = np.array([[0.8, 0.4, 0.5]])
    weights = np.array([[0.5, 0.5, 0.0]])
    # then the loss is the weighted sum over the two real steps
    loss = float(StepBinaryCrossentropy()(labels, predictions, sample_weight=weights))
    assert loss == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-5)
