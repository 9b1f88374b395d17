"""quiet_tensorflow silences TensorFlow's start-up logs but nothing after them."""

import subprocess
import sys

SCRIPT = """
import sys
from gankit.runtime import quiet_tensorflow
quiet_tensorflow()
import tensorflow as tf
print("after", file=sys.stderr)
"""


def test_startup_logs_are_silenced_and_stderr_restored():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert proc.stderr.strip() == "after"
