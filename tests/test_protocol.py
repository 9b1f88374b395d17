"""One evaluation protocol: its known values, Q1, Q2 and the variants give one generator
the same FID under it, and every final table carries the real floor."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from gankit.evaluate.protocol import FLOOR_LABEL, PROTOCOL, EvalProtocol, protocol_for
from gankit.evaluate.suite import Evaluator, evaluate, evaluate_unconditional, metrics_table
from gankit.studies.variants import (
    QualityMeter,
    VariantRun,
    comparison_table,
    studies_table,
)
from gankit.train.loop import TrainResult

RNG = np.random.default_rng(3)
TEMPLATES = np.tanh(RNG.standard_normal((10, 784)) * 2).astype("float32")
LABELS = np.arange(600) % 10
TRAIN = np.clip(TEMPLATES[LABELS] + 0.3 * RNG.standard_normal((600, 784)), -1, 1).reshape(
    -1, 28, 28, 1
)
TEST = np.clip(TEMPLATES[LABELS] + 0.3 * RNG.standard_normal((600, 784)), -1, 1).reshape(
    -1, 28, 28, 1
)
N = 200


def template_classifier():
    x = keras.Input((28, 28, 1))
    emb = keras.layers.Dense(10, name="embedding")
    h = emb(keras.layers.Flatten()(x))
    emb.set_weights([TEMPLATES.T / 784, np.zeros(10, "float32")])
    return keras.Model(x, keras.layers.Softmax()(keras.layers.Rescaling(100.0)(h)))


def noisy_generator():
    """Unconditional: a blend of two templates plus noise (a mediocre generator)."""
    z = keras.Input((784,))
    t = keras.layers.Dense(784, kernel_initializer="zeros")(z)
    t = keras.layers.Lambda(lambda v: v + 0.5 * (TEMPLATES[1] + TEMPLATES[7]))(t)
    x = keras.layers.Add()([t, keras.layers.Rescaling(0.5)(z)])
    x = keras.layers.Activation(lambda v: keras.ops.clip(v, -1.0, 1.0))(x)
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(x))


def test_the_protocol_is_ten_thousand_samples_seed_zero_and_ten_is_splits():
    assert (PROTOCOL.n, PROTOCOL.seed, PROTOCOL.is_splits) == (10_000, 0, 10)
    assert protocol_for(False) is PROTOCOL and protocol_for(True).n == 1000
    assert protocol_for(True).seed == 0
    text = PROTOCOL.describe()
    assert "10,000 samples" in text and "first 10,000 MNIST training images" in text
    assert "first 10,000 MNIST test images" in text and "penultimate" in text
    assert FLOOR_LABEL == "real test (floor)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOL.n = 5000


def test_the_reference_is_the_first_n_training_images_and_the_floor_the_first_n_test():
    protocol = EvalProtocol(n=N)
    np.testing.assert_array_equal(protocol.reference_images(TRAIN), TRAIN[:N])
    images, labels = protocol.floor_images(TEST, LABELS)
    np.testing.assert_array_equal(images, TEST[:N])
    np.testing.assert_array_equal(labels, LABELS[:N])
    with pytest.raises(ValueError, match="at least n = 200"):
        protocol.reference_images(TRAIN[:100])
    with pytest.raises(ValueError, match="shape"):
        protocol.floor_images(TEST, LABELS[:5])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"n": 0}, ValueError), ({"seed": 1.5}, TypeError), ({"n": 5, "is_splits": 10}, ValueError)],
)
def test_a_bad_protocol_is_rejected(kwargs, error):
    with pytest.raises(error):
        EvalProtocol(**kwargs)


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator.build(template_classifier(), TRAIN, TEST, LABELS, EvalProtocol(n=N))


def test_q1_q2_and_the_variants_give_one_generator_the_same_fid(evaluator):
    generator = noisy_generator()
    q2 = evaluate(
        generator,
        classifier=evaluator.classifier,
        real_test=TEST,
        real_test_labels=LABELS,
        reference=TRAIN,
        n=N,
    )
    q1 = evaluate_unconditional(generator, evaluator, None)
    meter = QualityMeter.build(evaluator, TRAIN[:100], epoch_n=100)
    variant = meter.suite(generator)
    assert q2["generated"]["fid"] > 10 * q2["real test"]["fid"] > 0
    for key in ("fid", "kid", "precision", "recall", "inception_score"):
        assert q1["generated"][key] == pytest.approx(q2["generated"][key], rel=1e-9)
        assert variant[key] == pytest.approx(q2["generated"][key], rel=1e-9)
        assert q1["real test"][key] == pytest.approx(q2["real test"][key], rel=1e-9)
    # The per-epoch meter is another instrument (fewer samples, its own reference).
    assert meter.per_epoch(generator)["fid"] != pytest.approx(variant["fid"])


def test_scores_are_only_taken_at_the_protocols_sample_count(evaluator):
    with pytest.raises(ValueError, match="compare only at the protocol's sample count"):
        evaluator.score_images(TEST[: N - 1])


def _run(metrics):
    steps = pd.DataFrame({"epoch": [1.0], "d_loss": [1.0], "g_loss": [1.0],
                          "d_updates": [1], "g_updates": [1]})  # fmt: skip
    history = pd.DataFrame({"epoch": [1], "seconds": [1.0]})
    return VariantRun("x", None, TrainResult(None, None, history, steps, None, "ok", 1.0), metrics)


def test_every_table_function_ends_with_the_floor(evaluator):
    scores = {"tuned": {"fid": 50.0, "kid": 3.0}}
    tables = {
        "metrics_table": (metrics_table(scores, evaluator.floor), "samples"),
        "comparison_table": (
            comparison_table({"tuned": _run(scores["tuned"])}, evaluator.floor),
            "variant",
        ),
        "studies_table": (
            studies_table({"latent": {"100": _run(scores["tuned"])}}, evaluator.floor),
            "variant",
        ),
    }
    for name, (table, label_col) in tables.items():
        last = table.iloc[-1]
        assert last[label_col] == FLOOR_LABEL, name
        assert last["fid"] == pytest.approx(evaluator.floor["fid"]), name
        assert last["kid"] == pytest.approx(evaluator.floor["kid"]), name
    with pytest.raises(ValueError, match="floor is empty"):
        metrics_table(scores, {})


def test_a_metrics_table_can_keep_only_the_columns_its_question_needs(evaluator):
    table = metrics_table({"tuned": {"fid": 50.0, "kid": 3.0, "mmd": 0.2}}, evaluator.floor,
                          label_col="run", columns=["fid", "kid"])  # fmt: skip
    assert list(table.columns) == ["run", "fid", "kid"]
    assert list(table["run"]) == ["tuned", FLOOR_LABEL]
    with pytest.raises(ValueError, match="no row has"):
        metrics_table({"tuned": {"fid": 1.0}}, evaluator.floor, columns=["nope"])
