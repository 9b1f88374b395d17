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
- ``gankit.evaluate.protocol``: the one evaluation protocol of every final table
  (``PROTOCOL``: N = 10,000, reference = first N training images, floor = first N test
  images, penultimate-layer embedding, seed 0).
- ``gankit.evaluate.suite``: the whole suite for one generator (what ``gankit evaluate``
  runs), the ``Evaluator`` that binds the protocol to the classifier, and ``metrics_table``.
"""
