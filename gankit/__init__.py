"""gankit: a TensorFlow/Keras kit for the GAN coursework on MNIST.

Import the module you need (``gankit.data.mnist``, ``gankit.nets``, ``gankit.train.loop``,
``gankit.evaluate.metrics``, ``gankit.plots.curves``, ``gankit.report``); importing
``gankit`` itself does no work and loads no TensorFlow.
"""

__version__ = "0.1.0"
