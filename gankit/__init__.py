"""gankit: a TensorFlow/Keras kit for the GAN coursework on MNIST.

Import the module you need (``gankit.data``, ``gankit.nets``, ``gankit.train``,
``gankit.metrics``, ``gankit.plots``, ``gankit.report``); importing ``gankit`` itself does
no work and loads no TensorFlow.
"""

__version__ = "0.1.0"
