"""`inspect` reads a published model's head as it is: the last layer's activation says what
its output means (a softmax's probabilities are never softmaxed again, a sigmoid's are each
output's own, one linear number per sequence is a regression, several are logits); and
every recurrent layer Keras has is shown with the settings that change its numbers.

The models are built here as tutorials write them, with seeded random weights; every value
is checked against Keras's own call of the saved model and a numpy re-computation from the
model's weights."""

from __future__ import annotations

import numpy as np
import pytest

from rnnprobe.core.keras import env

FEATURES = 3


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _heads(keras):
    layers = keras.layers
    dense_td = layers.TimeDistributed(layers.Dense(3, activation="softmax"))
    return {
        "softmax": [layers.LSTM(4), layers.Dense(5, activation="softmax")],
        "sigmoid": [layers.GRU(4), layers.Dense(2, activation="sigmoid")],
        "regression": [layers.SimpleRNN(4), layers.Dense(1)],
        "logits": [layers.LSTM(4), layers.Dense(3)],
        "activation": [layers.LSTM(4), layers.Dense(3), layers.Activation("softmax")],
        "softmax_layer": [layers.GRU(4), layers.Dense(3), layers.Softmax()],
        "per_step": [layers.LSTM(4, return_sequences=True), dense_td],
    }


KIND = {"softmax": "softmax", "sigmoid": "sigmoid", "regression": "regression",
        "logits": "linear", "activation": "softmax", "softmax_layer": "softmax",
        "per_step": "softmax"}  # fmt: skip


@pytest.fixture(scope="module")
def heads(tmp_path_factory):
    keras = env.load_keras()
    folder = tmp_path_factory.mktemp("heads")
    found = {}
    with env.tensorflow_logs_quiet():
        keras.utils.set_random_seed(3)
        for name, stack in _heads(keras).items():
            model = keras.Sequential([keras.Input((None, FEATURES)), *stack])
            path = folder / f"{name}.keras"
            model.save(path)
            found[name] = (str(path), keras.models.load_model(path))
    return found


@pytest.mark.parametrize("name", list(KIND))
def test_each_head_is_read_as_it_is(cli, heads, name):
    path, model = heads[name]
    obj = cli.json("inspect", path, "--random", "2", "--seed", "1")
    x = np.asarray(obj["x_data"]["values"], np.float32)
    given = np.asarray(model(x), np.float32)  # what the model itself outputs
    assert obj["head_activation"] == KIND[name]
    if name == "softmax":  # the API reads the head as the command does
        import rnnprobe

        assert rnnprobe.inspect(path, x).to_dict() == obj
    if KIND[name] == "regression":
        assert "probabilities" not in obj and "logits" not in obj
        np.testing.assert_allclose(obj["predictions"]["values"], given, atol=1e-6)
        import rnnprobe

        found = rnnprobe.probe(model, x)  # the API reads it as a regression too
        assert found.logits is None and found.probabilities is None
        np.testing.assert_allclose(found.predictions, given, atol=1e-6)
        return
    probabilities = np.asarray(obj["probabilities"]["values"])
    logits = np.asarray(obj["logits"]["values"])
    # The logits: the last Dense layer's kernel and bias on the recurrent outputs, in numpy.
    dense = next(layer for layer in reversed(model.layers) if "dense" in layer.name
                 or layer.__class__.__name__ == "TimeDistributed")  # fmt: skip
    dense = getattr(dense, "layer", dense)
    kernel, bias = (np.asarray(w, np.float64) for w in dense.get_weights())
    outputs = np.asarray(obj["outputs"]["values"], np.float64)
    np.testing.assert_allclose(logits, outputs @ kernel + bias, atol=1e-5)
    if KIND[name] == "linear":  # logits: rnnprobe takes their softmax
        np.testing.assert_allclose(logits, given, atol=1e-6)
        np.testing.assert_allclose(probabilities, _softmax(logits), atol=1e-6)
    else:  # the model's own probabilities, never a softmax of them
        np.testing.assert_allclose(probabilities, given, atol=1e-6)
        squash = 1 / (1 + np.exp(-logits)) if name == "sigmoid" else _softmax(logits)
        np.testing.assert_allclose(probabilities, squash, atol=1e-5)


def test_the_view_says_what_the_head_gives(cli, heads):
    def said(name):
        return " ".join(cli.ok("inspect", heads[name][0], "--random", "1").stdout.split())

    assert "(the model's own softmax)" in said("softmax")
    assert "(the model outputs logits: their softmax is rnnprobe's)" in said("logits")
    sigmoid = said("sigmoid")
    assert "each output's own sigmoid (p > 0.5 says yes): 0:" in sigmoid
    assert "class 1 is the most likely" not in sigmoid and "class 0 is" not in sigmoid
    regression = said("regression")
    assert "prediction = [" in regression and "a regression (Dense(1))" in regression
    assert "probabilities" not in regression
    shapes = cli.ok("inspect", heads["sigmoid"][0], "--random", "1").stdout
    assert "softmax" not in shapes  # the sigmoid's probabilities are named for it


def test_a_model_ending_in_its_rnn_has_no_head(cli, tmp_path):
    keras = env.load_keras()
    model = keras.Sequential([keras.Input((None, FEATURES)), keras.layers.LSTM(3)])
    path = str(tmp_path / "bare.keras")
    model.save(path)
    obj = cli.json("inspect", path, "--random", "1")
    assert "logits" not in obj and "probabilities" not in obj and "head_activation" not in obj
    assert "probabilities" not in cli.ok("inspect", path, "--random", "1").stdout


def test_every_recurrent_layer_is_shown_with_what_changes_its_numbers(cli, tmp_path):
    keras = env.load_keras()
    layers = keras.layers
    models = {
        "conv": [keras.Input((None, 5, 5, 1)), layers.ConvLSTM2D(2, 3, padding="same")],
        "dropout": [keras.Input((None, FEATURES)), layers.LSTM(4, dropout=0.25,
                    recurrent_dropout=0.125, use_bias=False, unroll=True), layers.Dense(2)],
        "gru": [keras.Input((None, FEATURES)), layers.GRU(4, reset_after=False)],
    }  # fmt: skip
    found = {}
    for name, stack in models.items():
        path = str(tmp_path / f"{name}.keras")
        keras.Sequential(stack).save(path)
        found[name] = cli.json("inspect", path)["layers"][0]["settings"]
    assert found["conv"]["filters"] == 2 and found["conv"]["kernel_size"] == [3, 3]
    assert "units" not in found["conv"] and found["conv"]["cell"] == "ConvLSTMCell"
    assert found["dropout"]["dropout"] == 0.25 and found["dropout"]["recurrent_dropout"] == 0.125
    assert found["dropout"]["use_bias"] is False and found["dropout"]["unroll"] is True
    assert found["gru"]["reset_after"] is False and found["gru"]["unroll"] is False
    table = " ".join(cli.ok("inspect", str(tmp_path / "conv.keras")).stdout.split())
    assert "filters=2" in table and "ConvLSTM2D" in table
    # Frames are not (time, features): refused in one line, the layers still shown above.
    said = cli.usage_error("inspect", str(tmp_path / "conv.keras"), "--random", "1")
    assert said.startswith("rnnprobe: error: the model reads (batch, None, 5, 5, 1)")


def test_a_refusal_of_the_models_preprocessing_is_said_whole():
    import rnnprobe

    keras = env.load_keras()
    name = "a_rather_long_input_name_for_the_accelerometer_recordings_of_this_model"
    model = keras.Sequential([
        keras.Input((None, FEATURES), name=name),
        keras.layers.Normalization(mean=[0.0] * FEATURES, variance=[1.0] * FEATURES),
        keras.layers.LSTM(2),
    ])  # fmt: skip
    with pytest.raises(Exception) as refused:
        rnnprobe.probe(model, np.zeros((1, 5, FEATURES + 1), np.float32))
    said = str(refused.value)
    assert said.startswith("the model's preprocessing refused the input: ") and "\n" not in said
    assert name in said and said.endswith("found shape=(1, 5, 4)")  # never cut mid-sentence
