"""Tests of gankit.evaluate.classifier: model shape, inference checks, training, the model cache.

Everything trains tiny models on small or random data; only the sanity test reads MNIST.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import time

import keras
import numpy as np
import pytest

from gankit.evaluate import classifier as clf
from gankit.evaluate import classifier_config, inference

# A few hundred parameters: builds and trains one epoch on random data in about a second.
TINY = classifier_config.ClassifierConfig(
    conv_widths=(4, 8), embedding_dim=8, dropout=0.1, epochs=1, batch_size=32
)


def random_uint8_mnist(n_train=96, n_test=32, seed=0):
    """MNIST-shaped random arrays: enough to exercise training and caching."""
    rng = np.random.default_rng(seed)
    return (
        (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train)),
        (rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test)),
    )


def random_images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(0)
    return clf.build_classifier(TINY)


# ----------------------------------------------------------------------------- config


def test_reference_is_the_default_and_configs_are_frozen():
    assert classifier_config.ClassifierConfig() == classifier_config.REFERENCE
    with pytest.raises(dataclasses.FrozenInstanceError):
        classifier_config.REFERENCE.epochs = 1  # type: ignore[misc]


def test_mediocre_is_much_cheaper_than_reference():
    mediocre, reference = classifier_config.MEDIOCRE, classifier_config.REFERENCE
    assert mediocre.n_train is not None and mediocre.n_train <= 10_000
    assert mediocre.epochs < reference.epochs
    assert sum(mediocre.conv_widths) < sum(reference.conv_widths) / 10
    assert clf.build_classifier(mediocre).get_layer("embedding").output.shape == (None, 16)


def test_quick_variant_trains_on_less():
    quick = classifier_config.REFERENCE.quick()
    assert quick.n_train == 10_000 and quick.epochs == 2
    assert quick.conv_widths == classifier_config.REFERENCE.conv_widths
    assert classifier_config.MEDIOCRE.quick() == classifier_config.MEDIOCRE  # already cheap


def test_default_config_follows_quick_mode(monkeypatch):
    monkeypatch.setenv("GANKIT_QUICK", "1")
    assert classifier_config.default_config() == classifier_config.REFERENCE.quick()
    monkeypatch.setenv("GANKIT_QUICK", "0")
    assert classifier_config.default_config() == classifier_config.REFERENCE


@pytest.mark.parametrize(
    "change",
    [
        {"epochs": 0},
        {"conv_widths": ()},
        {"conv_widths": (8, 8, 8, 8)},
        {"dropout": 1.0},
        {"label_smoothing": -0.1},
        {"final_lr_fraction": 1.5},
        {"n_train": 0},
        {"pooling": "max"},
        {"validation_size": -1},
    ],
)
def test_invalid_config_is_rejected(change):
    with pytest.raises(ValueError):
        clf.build_classifier(dataclasses.replace(TINY, **change))


def test_learning_rate_warms_up_then_decays():
    config = dataclasses.replace(TINY, learning_rate=1e-2, warmup_fraction=0.1)
    schedule = clf.learning_rate_schedule(config, total_steps=100)
    rates = [float(schedule(step)) for step in (0, 10, 100)]
    np.testing.assert_allclose(
        rates,
        [1e-2 * config.initial_lr_fraction, 1e-2, 1e-2 * config.final_lr_fraction],
        rtol=1e-4,
    )


def test_split_holds_out_the_end_of_the_training_images():
    x, y = np.arange(100), np.arange(100) % 10
    config = dataclasses.replace(TINY, n_train=30, validation_size=20)
    (x_fit, _), (x_val, y_val) = clf.split_training_data(config, x, y)
    assert x_fit.tolist() == list(range(30))
    assert x_val.tolist() == list(range(80, 100)) and len(y_val) == 20
    with pytest.raises(ValueError, match="too few"):
        clf.split_training_data(dataclasses.replace(config, n_train=81), x, y)


# ------------------------------------------------------------------------------ model


def test_builder_shapes_and_layer_names(tiny_model):
    assert tiny_model.input_shape == (None, 28, 28, 1)
    assert tiny_model.output_shape == (None, 10)
    probs = tiny_model.get_layer("probs")
    assert tiny_model.layers[-1] is probs and tiny_model.layers[-2].name == "embedding"
    assert probs.dtype_policy.compute_dtype == "float32"
    assert tiny_model.get_layer("embedding").output.shape == (None, TINY.embedding_dim)
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in tiny_model.layers)


def test_model_is_float32_under_a_mixed_precision_policy():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = clf.build_classifier(TINY)
    finally:
        keras.config.set_dtype_policy(previous)
    computing = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert {layer.dtype_policy.compute_dtype for layer in computing} == {"float32"}
    assert model.inputs[0].dtype == "float32"
    assert inference.embed(model, random_images(3)).dtype == np.float32


@pytest.mark.parametrize(("pooling", "features"), [("flatten", 14 * 14 * 8), ("gap", 8)])
def test_pooling_choices_build(pooling, features):
    model = clf.build_classifier(dataclasses.replace(TINY, pooling=pooling))
    assert model.get_layer(pooling).output.shape == (None, features)
    assert model.output_shape == (None, 10)


def test_reference_architecture_builds():
    model = clf.build_classifier(classifier_config.REFERENCE)
    assert model.get_layer("embedding").output.shape == (
        None,
        classifier_config.REFERENCE.embedding_dim,
    )
    assert model.output_shape == (None, 10)


# -------------------------------------------------------------------------- inference


def test_predict_proba_rows_are_distributions(tiny_model):
    probs = inference.predict_proba(tiny_model, random_images(50), batch_size=16)
    assert probs.shape == (50, 10) and probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_predictions_do_not_depend_on_chunking_or_channel_axis(tiny_model):
    images = random_images(30)
    whole = inference.predict_proba(tiny_model, images)
    np.testing.assert_allclose(
        inference.predict_proba(tiny_model, images, batch_size=7), whole, atol=1e-6
    )
    np.testing.assert_allclose(
        inference.predict_proba(tiny_model, images[..., 0]), whole, atol=1e-6
    )


def test_predictions_are_padded_to_one_shape_and_match_an_eager_call():
    model = clf.build_classifier(TINY)  # its own model: a fresh inference function
    images = random_images(40)
    for n in (3, 5, 40):  # chunks of 3, 5, and 32 + 8 images, all padded to 32
        np.testing.assert_allclose(
            inference.predict_proba(model, images[:n], batch_size=32),
            np.asarray(model(images[:n], training=False)),
            atol=1e-6,
        )
    assert model.predict_function.experimental_get_tracing_count() == 1


def test_embedding_calls_leave_no_retracing_warnings(tiny_model, caplog):
    # Each call builds a throw-away embedding model; compiled per call, every one would be
    # a new trace of the same function and TensorFlow warns about that after a few.
    images = random_images(12)
    with caplog.at_level("WARNING"):
        for n in range(4, 12):
            assert inference.embed(tiny_model, images[:n]).shape == (n, TINY.embedding_dim)
            probs, features = inference.predict_and_embed(tiny_model, images[:n])
            assert probs.shape == (n, 10) and features.shape == (n, TINY.embedding_dim)
    assert "retracing" not in caplog.text


def test_uint8_images_are_scaled_like_scale_images(tiny_model):
    from gankit.data.images import scale_images

    pixels = np.random.default_rng(1).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    np.testing.assert_allclose(
        inference.predict_proba(tiny_model, pixels),
        inference.predict_proba(tiny_model, scale_images(pixels)),
        atol=1e-6,
    )


def test_embed_shape_and_chunking(tiny_model):
    images = random_images(25)
    features = inference.embed(tiny_model, images)
    assert features.shape == (25, TINY.embedding_dim) and features.dtype == np.float32
    np.testing.assert_allclose(
        inference.embed(tiny_model, images, batch_size=4), features, atol=1e-5
    )


def test_empty_batch_gives_empty_outputs(tiny_model):
    empty = np.zeros((0, 28, 28, 1), np.float32)
    assert inference.predict_proba(tiny_model, empty).shape == (0, 10)
    assert inference.embed(tiny_model, empty).shape == (0, TINY.embedding_dim)


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.full((2, 28, 28, 1), 1.5, np.float32), ValueError, "scale_images"),
        (np.full((2, 28, 28), -1.01, np.float32), ValueError, r"\[-1, 1\]"),
        (np.full((2, 28, 28), 255.0), ValueError, "scale_images"),
        (np.zeros((2, 32, 32, 1), np.float32), ValueError, "shape"),
        (np.zeros((28, 28), np.float32), ValueError, "shape"),
        (np.zeros((2, 28, 28, 3), np.float32), ValueError, "shape"),
        (np.full((2, 28, 28), np.nan, np.float32), ValueError, "NaN"),
        (np.zeros((2, 28, 28), np.int64), TypeError, "scale_images"),
    ],
    ids=["above-1", "below-1", "unscaled", "32px", "one-image", "rgb", "nan", "int64"],
)
def test_invalid_images_are_rejected(tiny_model, images, error, match):
    with pytest.raises(error, match=match):
        inference.predict_proba(tiny_model, images)
    with pytest.raises(error, match=match):
        inference.embed(tiny_model, images)


def test_nonpositive_batch_size_is_rejected(tiny_model):
    with pytest.raises(ValueError, match="batch_size"):
        inference.predict_proba(tiny_model, random_images(2), batch_size=0)


# ------------------------------------------------------------------------------ cache


def test_cache_key_covers_config_and_seed():
    key = clf.cache_key(TINY, 0)
    assert key == clf.cache_key(dataclasses.replace(TINY), 0)
    assert key != clf.cache_key(TINY, 1)
    assert key != clf.cache_key(dataclasses.replace(TINY, dropout=0.2), 0)
    assert key != clf.cache_key(dataclasses.replace(TINY, conv_widths=(4, 16)), 0)


def test_cache_dir_defaults_to_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_DATA_DIR", str(tmp_path))
    assert clf.resolve_cache_dir() == tmp_path / "classifiers"
    assert clf.resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    model_path, info_path = clf.cache_paths(TINY, 0)
    assert model_path.parent == tmp_path / "classifiers"
    assert model_path.suffix == ".keras" and info_path.suffix == ".json"


def _count_training(monkeypatch):
    """Wraps train_classifier to count its calls."""
    calls = []
    train = clf.train_classifier

    def counting_train(*args, **kwargs):
        calls.append(args)
        return train(*args, **kwargs)

    monkeypatch.setattr(clf, "train_classifier", counting_train)
    return calls


def test_second_call_loads_the_cached_model(monkeypatch, tmp_path):
    calls = _count_training(monkeypatch)
    data = random_uint8_mnist()
    kwargs = {"cache_dir": tmp_path, "verbose": False, "return_info": True, "data": data}
    trained, info = clf.load_or_train_classifier(TINY, **kwargs)
    loaded, cached_info = clf.load_or_train_classifier(TINY, **kwargs)

    assert len(calls) == 1
    assert not info["from_cache"] and cached_info["from_cache"]
    assert cached_info["test_accuracy"] == info["test_accuracy"]
    assert cached_info["config"] == classifier_config.config_to_dict(TINY)
    assert clf.classifier_info(TINY, cache_dir=tmp_path)["n_train"] == 96
    images = random_images(10)
    np.testing.assert_allclose(
        inference.predict_proba(loaded, images), inference.predict_proba(trained, images), atol=1e-6
    )
    # atomic writes leave no temporary files behind (the lock file stays, empty)
    assert sorted(p.suffix for p in tmp_path.iterdir() if p.suffix != ".lock") == [
        ".json",
        ".keras",
    ]
    # only the weights are stored, not AdamW's two slots per weight
    weights_bytes = 4 * trained.count_params()
    assert clf.cache_paths(TINY, 0, tmp_path)[0].stat().st_size < 1.5 * weights_bytes + 50_000


def test_concurrent_callers_train_once_and_share_the_cache(monkeypatch, tmp_path):
    calls = _count_training(monkeypatch)
    counting = clf.train_classifier

    def slow_train(*args, **kwargs):  # both callers are inside before either has cached
        time.sleep(0.5)
        return counting(*args, **kwargs)

    monkeypatch.setattr(clf, "train_classifier", slow_train)
    kwargs = {"cache_dir": tmp_path, "verbose": False, "return_info": True}
    kwargs["data"] = random_uint8_mnist()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        infos = [f.result()[1] for f in [
            pool.submit(clf.load_or_train_classifier, TINY, **kwargs) for _ in range(2)
        ]]  # fmt: skip

    assert len(calls) == 1
    assert sorted(info["from_cache"] for info in infos) == [False, True]


def test_changed_config_trains_into_another_file(monkeypatch, tmp_path):
    calls = _count_training(monkeypatch)
    kwargs = {"cache_dir": tmp_path, "verbose": False, "data": random_uint8_mnist()}
    clf.load_or_train_classifier(TINY, **kwargs)
    other = dataclasses.replace(TINY, embedding_dim=6)
    model = clf.load_or_train_classifier(other, **kwargs)

    assert len(calls) == 2
    assert clf.cache_paths(TINY, 0, tmp_path)[0] != clf.cache_paths(other, 0, tmp_path)[0]
    assert len(list(tmp_path.glob("*.keras"))) == 2
    assert model.get_layer("embedding").output.shape == (None, 6)


def test_corrupt_cache_file_is_reported_and_retrained(monkeypatch, tmp_path):
    kwargs = {"cache_dir": tmp_path, "verbose": False, "data": random_uint8_mnist()}
    clf.load_or_train_classifier(TINY, **kwargs)
    model_path, _ = clf.cache_paths(TINY, 0, tmp_path)
    model_path.write_bytes(b"not a keras file")
    calls = _count_training(monkeypatch)

    with pytest.warns(clf.ClassifierCacheWarning, match="unusable"):
        _, info = clf.load_or_train_classifier(TINY, return_info=True, **kwargs)
    assert len(calls) == 1 and not info["from_cache"]
    _, info = clf.load_or_train_classifier(TINY, return_info=True, **kwargs)
    assert info["from_cache"]


def test_info_of_another_config_is_not_trusted(tmp_path):
    kwargs = {"cache_dir": tmp_path, "verbose": False, "data": random_uint8_mnist()}
    clf.load_or_train_classifier(TINY, **kwargs)
    _, info_path = clf.cache_paths(TINY, 0, tmp_path)
    info = json.loads(info_path.read_text())
    info["config"]["epochs"] = 99
    info_path.write_text(json.dumps(info))

    with pytest.warns(clf.ClassifierCacheWarning, match="another config"):
        _, info = clf.load_or_train_classifier(TINY, return_info=True, **kwargs)
    assert not info["from_cache"]


def test_saved_model_loads_in_safe_mode_without_custom_objects(tmp_path):
    config = dataclasses.replace(TINY, translate_pixels=2)  # adds an augmentation layer
    model, info = clf.train_classifier(config, data=random_uint8_mnist(), verbose=False)
    model_path, info_path = tmp_path / "m.keras", tmp_path / "m.json"
    clf.save_classifier(model, info, model_path, info_path)

    loaded = keras.saving.load_model(model_path, safe_mode=True)
    images = random_images(8)
    np.testing.assert_allclose(
        inference.predict_proba(loaded, images), inference.predict_proba(model, images), atol=1e-6
    )
    assert json.loads(info_path.read_text())["test_accuracy"] == info["test_accuracy"]


def test_classifier_info_is_none_before_training(tmp_path):
    assert clf.classifier_info(TINY, cache_dir=tmp_path) is None


# --------------------------------------------------------------------------- training


def test_train_reports_info_fields():
    config = dataclasses.replace(TINY, validation_size=32)
    _, info = clf.train_classifier(config, seed=3, data=random_uint8_mnist(), verbose=False)
    assert 0 <= info["test_accuracy"] <= 1 and 0 <= info["validation_accuracy"] <= 1
    assert info["n_train"] == 64 and info["n_test"] == 32
    assert info["epochs"] == 1 and info["seed"] == 3 and info["train_seconds"] > 0
    assert set(info["history"]) >= {"loss", "accuracy", "val_accuracy"}
    json.dumps(info)  # must be storable as JSON


def test_tiny_model_learns_real_mnist():
    from gankit.data.mnist import MnistUnavailableError, load_mnist

    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(verbose=False)
    except MnistUnavailableError as err:  # no cache and no network
        pytest.skip(f"MNIST unavailable: {err}")
    config = dataclasses.replace(
        TINY, conv_widths=(8, 16), pooling="flatten", embedding_dim=32, epochs=2
    )
    data = ((x_train[:2000], y_train[:2000]), (x_test[:1000], y_test[:1000]))
    _, info = clf.train_classifier(config, data=data, verbose=False)
    assert info["test_accuracy"] > 0.8, info  # measured 0.89-0.91 over seeds 0-2
