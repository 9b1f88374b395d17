"""``python -m gankit.data``: make sure real MNIST is in the cache."""

import sys

from gankit.data.mnist import main

raise SystemExit(main(sys.argv[1:]))
