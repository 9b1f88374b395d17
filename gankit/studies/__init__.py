"""Studies built on trained generators and the classifier.

- ``retrain``: one retraining run of the digit classifier on real and synthetic images.
- ``retrain_sets``: its training sets: real subsets, synthetic draws, elite filter, augmentation.
- ``retrain_study``: many retraining runs, resumable, and their results file.
- ``retrain_tables``: the report's numbers from those results: mean ± std tables, paired gains.
- ``pca``: PCA as a generative model of MNIST (unconditional and per class), the baseline.
- ``pca_basis``: its fitted pieces: principal axes (scikit-learn) and coefficient Gaussians.
- ``variants``: running the GAN-variant studies: train each config, measure it, tabulate.
- ``interpolation``: latent and pixel-space walks between samples.
- ``spectrum``: average power spectra of image sets (checkerboard artefacts).
- ``embeddings``: 2-D maps of classifier embeddings and the classifier's confidence.
"""
