"""Walking between samples: in the latent space of a generator, or in pixel space.

A smooth latent walk whose images all look like digits says the generator has learnt a
continuous map, not a lookup table of training images; fading one image into another in
pixel space gives the contrast (ghostly overlays half-way).

- `lerp` and `slerp`: straight and spherical paths between two noise vectors. Noise from
  N(0, I) in 100 dimensions lies near a sphere of radius 10; a straight path cuts inside
  it (its midpoint has norm ~7 for orthogonal endpoints), where G never saw noise during
  training. The spherical path (White 2016, "Sampling generative networks") stays on it.
- `latent_interpolation`: generator images along either path (a conditional generator
  keeps one class fixed).
- `pixel_interpolation`: the pixel-space fade between two images.
- `class_interpolation`: one noise vector, drawn as class a turning into class b.

What integer labels allow: a conditional generator's label input is an integer, so there
is nothing "between" 3 and 8 to feed it. But the label enters the network as a vector - a
one-hot code ('concat' conditioning) or a learned embedding ('embedding') appended to the
noise - and `class_code_generator` rebuilds the generator from that point on, with the
code as a float input. ``class_interpolation(..., method="code")`` walks between the codes
of two classes (a point half-way is not any class the generator was trained on, so the
middle images show what G does off its training inputs). For 'batchnorm' conditioning the
label also scales every batch norm by a per-class table, and for a virtual-batch-norm
generator a labelled reference batch rides along, so there is no single code to walk:
those support only ``method="pixel"``, which draws the same noise as class a and as class
b and fades between the two images.
"""

from __future__ import annotations

import keras
import numpy as np
from numpy.typing import ArrayLike

from gankit import checks
from gankit.nets.conditioning import ConditionalBatchNormalization
from gankit.nets.layers import PrependReference
from gankit.nets.sampling import N_CLASSES, is_conditional, latent_dim_of

LATENT_METHODS = ("lerp", "slerp")
CLASS_METHODS = ("code", "pixel")


def _path_weights(steps: int) -> np.ndarray:
    if int(steps) != steps or steps < 2:
        raise ValueError(f"steps must be an integer >= 2 (both endpoints), got {steps!r}")
    return np.linspace(0.0, 1.0, int(steps))


def _endpoints(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"endpoints must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def lerp(z0: ArrayLike, z1: ArrayLike, steps: int) -> np.ndarray:
    """``steps`` points on the straight line from ``z0`` to ``z1`` (both included).

    Returns:
      float32 (steps, *z0.shape); row 0 is z0 and row -1 is z1.
    """
    t = _path_weights(steps)
    a, b = _endpoints(z0, z1)
    t = t.reshape((-1,) + (1,) * a.ndim)
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(z0: ArrayLike, z1: ArrayLike, steps: int) -> np.ndarray:
    """``steps`` points on the great-circle arc from ``z0`` to ``z1`` (both included).

    ``sin((1 - t) w) / sin(w) * z0 + sin(t w) / sin(w) * z1`` with w the angle between
    them; for endpoints of equal norm every point has that norm. Parallel or
    anti-parallel endpoints (sin w ~ 0) have no unique arc: the straight line is used.

    Returns:
      float32 (steps, d) for vectors z0, z1 of shape (d,).

    Raises:
      ValueError: for endpoints that are not 1-D vectors of the same length.
    """
    t = _path_weights(steps)[:, None]
    a, b = _endpoints(z0, z1)
    if a.ndim != 1:
        raise ValueError(f"slerp needs 1-D vectors, got shape {a.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a, b, steps)
    omega = np.arccos(np.clip(a @ b / (na * nb), -1.0, 1.0))
    if abs(np.sin(omega)) < 1e-6:
        return lerp(a, b, steps)
    out = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    return out.astype(np.float32)


def pixel_interpolation(x0: ArrayLike, x1: ArrayLike, steps: int) -> np.ndarray:
    """The fade from image ``x0`` to image ``x1``: ``(1 - t) x0 + t x1`` for t in [0, 1].

    Returns:
      float32 (steps, *x0.shape).
    """
    return lerp(x0, x1, steps)


def _check_label(label, name: str = "label") -> int:
    return checks.label(label, name, N_CLASSES)


def _generate(generator: keras.Model, z: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    inputs = z if labels is None else [z, labels]
    return np.asarray(generator(inputs, training=False), np.float32)


def latent_interpolation(
    generator: keras.Model,
    z0: ArrayLike,
    z1: ArrayLike,
    steps: int = 10,
    method: str = "slerp",
    label: int | None = None,
) -> np.ndarray:
    """Images of ``generator`` along a path from noise ``z0`` to ``z1`` (inference mode).

    Args:
      z0, z1: noise vectors (latent_dim,).
      method: 'slerp' (great circle) or 'lerp' (straight line).
      label: the class for a conditional generator (required), kept fixed along the path;
        not allowed for an unconditional one.

    Returns:
      float32 (steps, 28, 28, 1) in [-1, 1]; the first and last images are G(z0), G(z1).

    Raises:
      ValueError: for an unknown method, wrong noise size, or a missing/extra label.
    """
    if method not in LATENT_METHODS:
        raise ValueError(f"method must be one of {', '.join(LATENT_METHODS)}; got {method!r}")
    latent_dim = latent_dim_of(generator)
    a, b = _endpoints(z0, z1)
    if a.shape != (latent_dim,):
        raise ValueError(f"z0 and z1 must have shape ({latent_dim},), got {a.shape}")
    path = (slerp if method == "slerp" else lerp)(a, b, steps)
    labels = None
    if is_conditional(generator):
        if label is None:
            raise ValueError("a conditional generator needs label=: the class to draw")
        labels = np.full(len(path), _check_label(label), np.int32)
    elif label is not None:
        raise ValueError("label was given but the generator is unconditional")
    return _generate(generator, path, labels)


def class_code_generator(generator: keras.Model) -> tuple[keras.Model, np.ndarray]:
    """The conditional ``generator`` with its label code as a float input.

    For 'concat' (one-hot) and 'embedding' (learned) conditioning, G appends a code of the
    label to the noise; this returns a model ``[noise (batch, latent_dim), code (batch, c)]
    -> images`` that shares G's layers and weights from that concatenation on, and the
    (10, c) table of the classes' codes (the identity, or the embedding matrix). With
    ``code = codes[y]`` it reproduces ``generator([noise, y])`` exactly.

    Raises:
      ValueError: for an unconditional generator, 'batchnorm' conditioning (the label also
        enters every batch norm) or a virtual-batch-norm generator (labelled reference
        rows are prepended); see the module docstring.
    """
    if not is_conditional(generator):
        raise ValueError("class codes need a conditional generator (inputs: noise, label)")
    for layer in generator.layers:
        if isinstance(layer, ConditionalBatchNormalization):
            raise ValueError(
                "conditioning='batchnorm' feeds the integer label to every batch norm, so "
                "there is no single code to interpolate; use method='pixel'"
            )
        if isinstance(layer, PrependReference):
            raise ValueError(
                "a virtual-batch-norm generator prepends labelled reference rows; codes "
                "cannot be swapped in: use method='pixel'"
            )
    noise = generator.inputs[0]
    concats = [
        layer
        for layer in generator.layers
        if isinstance(layer, keras.layers.Concatenate) and any(t is noise for t in layer.input)
    ]
    code_layers = [
        layer
        for layer in generator.layers
        if isinstance(layer, keras.layers.Embedding | keras.layers.CategoryEncoding)
    ]
    if len(concats) != 1 or len(code_layers) != 1:
        raise ValueError("found no single layer that appends a label code to the noise")
    concat, code_layer = concats[0], code_layers[0]
    if isinstance(code_layer, keras.layers.Embedding):
        codes = np.asarray(code_layer.get_weights()[0], np.float32)
    else:
        codes = np.eye(N_CLASSES, dtype=np.float32)
    # Keras 3 builds a functional model from an intermediate tensor: the layers after it.
    tail = keras.Model(concat.output, generator.output)
    z_in = keras.Input((latent_dim_of(generator),), name="noise")
    code_in = keras.Input((codes.shape[1],), name="class_code")
    joined = keras.layers.Concatenate(dtype=concat.dtype_policy)([z_in, code_in])
    return keras.Model([z_in, code_in], tail(joined), name="class_code_generator"), codes


def class_interpolation(
    generator: keras.Model,
    z: ArrayLike,
    class_a: int,
    class_b: int,
    steps: int = 10,
    method: str = "code",
) -> np.ndarray:
    """One noise vector ``z`` drawn as ``class_a`` turning into ``class_b``.

    Args:
      method: 'code' walks linearly between the two classes' label codes (see
        `class_code_generator`; 'concat' and 'embedding' conditioning only); 'pixel'
        generates the two endpoint images and fades between them (any conditional G).

    Returns:
      float32 (steps, 28, 28, 1); the first image is G(z, class_a), the last G(z, class_b).

    Raises:
      ValueError: for an unknown method, an unconditional generator, a class outside
        0-9, or method='code' for a generator without a single label code.
    """
    if method not in CLASS_METHODS:
        raise ValueError(f"method must be one of {', '.join(CLASS_METHODS)}; got {method!r}")
    if not is_conditional(generator):
        raise ValueError("class interpolation needs a conditional generator")
    a, b = _check_label(class_a, "class_a"), _check_label(class_b, "class_b")
    z = np.asarray(z, np.float32)
    if z.shape != (latent_dim_of(generator),):
        raise ValueError(f"z must have shape ({latent_dim_of(generator)},), got {z.shape}")
    if method == "pixel":
        ends = _generate(generator, np.stack([z, z]), np.array([a, b], np.int32))
        return pixel_interpolation(ends[0], ends[1], steps)
    model, codes = class_code_generator(generator)
    path = lerp(codes[a], codes[b], steps)
    noise = np.repeat(z[None], len(path), axis=0)
    return np.asarray(model([noise, path], training=False), np.float32)
