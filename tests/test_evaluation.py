"""Q1 evaluation: collapse shows up in duplicates and coverage; real rows are references."""

import keras
import numpy as np
import pytest

from gankit.evaluate.classifier import build_classifier
from gankit.evaluate.classifier_config import ClassifierConfig
from gankit.evaluate.protocol import EvalProtocol
from gankit.evaluate.suite import (
    Evaluator,
    classify_samples,
    draw_samples,
    duplicate_threshold,
    evaluate,
    evaluate_unconditional,
    pixel_statistics,
)
from gankit.nets.sampling import generate, sample_noise

RNG = np.random.default_rng(0)
REAL = np.tanh(RNG.standard_normal((400, 28, 28, 1)) * 2).astype("float32")


def constant_generator(latent_dim=4):
    """A fully collapsed generator: every noise vector gives the same image."""
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense(
        784,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(-0.5),
        activation="tanh",
    )(z)
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(x))


def test_threshold_flags_about_one_percent_of_real_images():
    threshold = duplicate_threshold(REAL)
    frac = pixel_statistics(REAL[:200], REAL[200:], threshold)["duplicate_fraction"]
    assert frac <= 0.05


def small_evaluator(n=200):
    classifier = build_classifier(ClassifierConfig(conv_widths=(4,), embedding_dim=8))
    labels = np.arange(len(REAL)) % 10
    return Evaluator.build(classifier, REAL, REAL[::-1], labels, EvalProtocol(n=n))


def test_collapsed_generator_is_all_duplicates_and_covers_one_class():
    out = evaluate_unconditional(constant_generator(), small_evaluator(), REAL)
    fake, real = out["generated"], out["real test"]
    assert fake["duplicate_fraction"] == 1.0 and fake["pairwise_distance"] == 0.0
    assert fake["classes_covered"] == 1
    assert fake["kl_to_uniform"] == pytest.approx(np.log(10))
    assert fake["inception_score"] == pytest.approx(1.0, abs=1e-4)
    assert real["pairwise_distance"] > 1.0
    assert fake["fid"] > 0


def test_real_floor_only_is_the_evaluators_floor_plus_pixel_statistics():
    evaluator = small_evaluator()
    out = evaluate_unconditional(None, evaluator, REAL)
    assert list(out) == ["real test"]
    assert {k: out["real test"][k] for k in evaluator.floor} == evaluator.floor
    assert {"pairwise_distance", "duplicate_fraction", "nn_train_distance"} <= set(out["real test"])
    with pytest.raises(ValueError, match="at least n = 500"):
        Evaluator.build(evaluator.classifier, REAL, REAL, np.arange(400) % 10, EvalProtocol(n=500))


def test_generate_is_seeded_and_batched():
    g = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(784, activation="tanh"),
            keras.layers.Reshape((28, 28, 1)),
        ]
    )
    a = generate(g, 25, seed=3, batch_size=7)
    np.testing.assert_allclose(a, generate(g, 25, seed=3), atol=1e-6)
    assert a.shape == (25, 28, 28, 1) and a.dtype == np.float32
    assert not np.allclose(a, generate(g, 25, seed=4))
    assert sample_noise(5, 4, seed=1).shape == (5, 4)
    with pytest.raises(ValueError, match=">= 1"):
        sample_noise(0, 4, seed=1)


def test_real_row_and_memorisation_distance_can_be_left_out():
    evaluator = small_evaluator()
    out = evaluate_unconditional(constant_generator(), evaluator, None, include_real=False)
    assert list(out) == ["generated"]
    assert "nn_train_distance" not in out["generated"]
    assert out["generated"]["duplicate_fraction"] == 1.0
    assert list(evaluate_unconditional(None, evaluator, None, include_real=False)) == ["real test"]


# A world with known answers: ten class templates, real images are templates plus noise,
# and a "classifier" that scores an image by its match with each template.
TEMPLATES = np.sign(np.random.default_rng(5).standard_normal((10, 784))).astype("float32") * 0.5
CLASSES = np.arange(600) % 10
NOISY = np.clip(
    TEMPLATES[CLASSES] + 0.3 * np.random.default_rng(6).standard_normal((600, 784)), -1, 1
).astype("float32")


def template_classifier():
    x = keras.Input((28, 28, 1))
    h = keras.layers.Flatten()(x)
    emb = keras.layers.Dense(10, name="embedding")
    h = emb(h)
    emb.set_weights([TEMPLATES.T / 784, np.zeros(10, "float32")])
    logits = keras.layers.Rescaling(100.0)(h)
    return keras.Model(x, keras.layers.Softmax()(logits))


def template_generator(noise_scale=0.0):
    """Conditional: draws the template of the asked class (plus noise_scale * noise)."""
    z = keras.Input((784,))
    y = keras.Input((), dtype="int32")
    emb = keras.layers.Embedding(10, 784)
    t = emb(y)
    emb.set_weights([TEMPLATES])
    x = keras.layers.Add()([t, keras.layers.Rescaling(noise_scale)(z)])
    x = keras.layers.Activation(lambda v: keras.ops.clip(v, -1.0, 1.0))(x)
    return keras.Model([z, y], keras.layers.Reshape((28, 28, 1))(x))


def _images(flat):
    return flat.reshape(-1, 28, 28, 1)


def test_real_row_tarr_is_the_classifier_accuracy_and_identical_sets_score_zero():
    from gankit.evaluate.inference import accuracy

    clf = template_classifier()
    labels = CLASSES.copy()
    labels[:30] = (labels[:30] + 1) % 10  # 5% wrong labels: accuracy 0.95
    real = _images(NOISY)
    out = evaluate(
        None, classifier=clf, real_test=real, real_test_labels=labels, reference=real, n=600
    )["real test"]
    assert out["tarr"] == pytest.approx(accuracy(clf, real, labels)) == pytest.approx(0.95)
    assert out["fid"] == pytest.approx(0.0, abs=1e-6)
    assert out["mmd"] == pytest.approx(0.0, abs=1e-9)
    assert out["precision"] == out["recall"] == 1.0
    assert out["inception_score"] > 9.0 and out["classes_covered"] == 10


def test_intra_class_collapse_fools_is_and_tarr_but_not_recall():
    real = _images(NOISY)
    out = evaluate(
        template_generator(0.0),
        classifier=template_classifier(),
        real_test=real,
        real_test_labels=CLASSES,
        reference=real,
        n=600,
    )
    fake, real_row = out["generated"], out["real test"]
    # One image per class: perfectly classified and perfectly balanced ...
    assert fake["tarr"] == 1.0
    assert fake["inception_score"] >= real_row["inception_score"] - 0.05
    # ... but it covers almost none of the real data's spread.
    assert fake["recall"] < 0.05 < real_row["recall"]
    assert fake["one_nn_accuracy"] > real_row["one_nn_accuracy"]


def test_evaluate_checks_sizes_and_labels():
    real = _images(NOISY)
    kwargs = dict(classifier=template_classifier(), reference=real)
    with pytest.raises(ValueError, match="at least n = 1000"):
        evaluate(None, real_test=real, real_test_labels=CLASSES, n=1000, **kwargs)
    with pytest.raises(ValueError, match="shape"):
        evaluate(None, real_test=real, real_test_labels=CLASSES[:5], n=100, **kwargs)


def test_draw_samples_balances_classes_for_a_conditional_generator():
    samples = draw_samples(template_generator(0.0), 30, seed=1)
    assert np.bincount(samples.labels).tolist() == [3] * 10
    np.testing.assert_allclose(samples.images.reshape(30, -1), TEMPLATES[samples.labels], atol=1e-6)
    assert draw_samples(constant_generator(), 5).labels is None


def test_classify_samples_finds_the_misclassified_ones():
    clf = template_classifier()
    g = template_generator(0.0)
    out = classify_samples(g, clf, n=50, seed=0)
    assert out.tarr["success_rate"] == 1.0 and len(out.misclassified) == 0
    assert out.confidence.min() > 0.99
    # Swap two templates inside G: asked 0 draws a 1 and vice versa.
    emb = next(la for la in g.layers if isinstance(la, keras.layers.Embedding))
    emb.set_weights([TEMPLATES[[1, 0, 2, 3, 4, 5, 6, 7, 8, 9]]])
    out = classify_samples(g, clf, n=50, seed=0)
    assert out.tarr["success_rate"] == pytest.approx(0.8)
    assert set(out.labels[out.misclassified]) == {0, 1}
    assert out.tarr["confusion"][0, 1] == 5
    with pytest.raises(ValueError, match="conditional"):
        classify_samples(constant_generator(), clf, n=10)
