"""``python -m gankit``: see gankit.cli."""

import sys

from gankit.cli import main

sys.exit(main())
