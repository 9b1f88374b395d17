"""Report figures: matplotlib ``Figure`` objects built without pyplot, in one house style.

- ``style``: the house style (IEEE widths, fonts, colours), ``new_figure``, ``save_figure``.
- ``samples``: figures of generated images: one sample grid, or grids across epochs.
- ``curves``: training curves: one run's losses and D accuracy, or runs compared.
- ``bars``: bar charts: a metric per run, class fractions per run.
- ``classes``: class-conditional figures: confusion matrix, per-class rates, captions.
- ``retrain``: the retraining study: accuracy against real images, gain from synthetic.
- ``analysis``: the PCA baseline and embeddings: 2-D maps, reconstructions, variance.
- ``confidence``: the classifier's confidence on real vs synthetic images.
- ``variants``: the GAN variants: power spectra, interpolation strips, critic vs quality.
"""
