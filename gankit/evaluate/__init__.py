"""Measuring generated digits: the reference classifier and the metrics that read it.

- ``gankit.evaluate.classifier_config``: ``ClassifierConfig``, the ``REFERENCE`` and
  ``MEDIOCRE`` presets.
- ``gankit.evaluate.classifier``: build, train and cache the MNIST classifier
  (``load_or_train_classifier``).
- ``gankit.evaluate.inference``: run it on images (``predict_proba``, ``embed``,
  ``predict_and_embed``, ``accuracy``).
- ``gankit.evaluate.metrics``: inception score, mode score, TARR, class coverage, FID, KID,
  MMD.
- ``gankit.evaluate.neighbours``: precision/recall, 1-NN accuracy and the distance kernels.
- ``gankit.evaluate.inputs``: the checks of probabilities, embeddings and labels.
- ``gankit.evaluate.diversity``: pixel-space diversity, near-duplicates, memorisation.
- ``gankit.evaluate.suite``: the whole suite for one generator (what ``gankit evaluate`` runs).
"""
