"""Measures crash recovery (a script, not a test): SIGKILLs the tiny trainer of
`crash_child` at random moments, resumes it until it finishes, and compares the finished
run with an uninterrupted one.

    PYTHONPATH=. python tests/kill_at_random.py [--kills 30] [--kind gan|semi] [--seed 0]

A trial starts the trainer in a fresh run directory and, each time, kills it after a
delay drawn uniformly from [0, T] (T: the time of the last whole run, from the end of its
imports to its exit; first the uninterrupted one), until one start finishes by itself.
A trial recovered exactly when its history (without timing columns), steps.csv, sample
images (byte for byte) and final generator weights equal the uninterrupted run's, each
epoch once, and no temporary file is left. Prints a line per trial and the counts:
kills, trials recovered exactly, failures.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = Path(__file__).with_name("crash_child.py")
TIMING = ["seconds", "images_per_second"]


def start(kind: str, run_dir: Path) -> tuple[subprocess.Popen, float]:
    """The trainer subprocess, once it has printed its "training" line, and that time."""
    root = str(Path(__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "GANKIT_FAULT_AT"}
    env.update(PYTHONPATH=os.pathsep.join([root, str(CHILD.parent)]), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), kind, str(run_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout.readline().strip() == "training"
    return proc, time.perf_counter()


def differences(kind: str, a: Path, b: Path) -> list[str]:
    """What differs between the finished runs ``a`` (uninterrupted) and ``b``."""
    import keras

    found = []
    ha, hb = pd.read_csv(a / "history.csv"), pd.read_csv(b / "history.csv")
    drop = [c for c in TIMING if c in ha]
    if not ha.drop(columns=drop).equals(hb.drop(columns=drop)):
        found.append(f"history epochs {list(hb['epoch'])}")
    if kind == "gan":
        if not pd.read_csv(a / "steps.csv").equals(pd.read_csv(b / "steps.csv")):
            found.append("steps.csv")
        names = sorted(p.name for p in (a / "samples").iterdir())
        if sorted(p.name for p in (b / "samples").iterdir()) != names:
            found.append("sample names")
        elif any(
            (a / "samples" / n).read_bytes() != (b / "samples" / n).read_bytes() for n in names
        ):
            found.append("sample bytes")
        wa = keras.saving.load_model(a / "generator.keras", compile=False).get_weights()
        wb = keras.saving.load_model(b / "generator.keras", compile=False).get_weights()
        if any(not np.array_equal(x, y) for x, y in zip(wa, wb, strict=True)):
            found.append("generator weights")
    leftovers = [
        p.name
        for p in b.rglob("*")
        if p.name.startswith(".") or "tmp" in p.name or "temp" in p.name
    ]
    if leftovers:
        found.append(f"leftover temporary files {leftovers}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30, help="stop after this many kills")
    parser.add_argument("--kind", choices=["gan", "semi"], default="gan")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    root = Path(tempfile.mkdtemp(prefix="kill_at_random_"))
    proc, t0 = start(args.kind, root / "straight")
    assert proc.wait() == 0
    budget = time.perf_counter() - t0
    print(f"uninterrupted run: {budget:.1f} s after its imports; runs in {root}")
    kills = killed_trials = exact = failures = trial = 0
    while kills < args.kills:
        trial += 1
        run_dir, delays = root / f"trial{trial:02d}", []
        while True:
            proc, t0 = start(args.kind, run_dir)
            delay = float(rng.uniform(0, budget))
            try:
                code = proc.wait(timeout=max(0.0, delay - (time.perf_counter() - t0)))
                if not delays:  # a whole run: its time tracks the machine's load
                    budget = time.perf_counter() - t0
                break
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                delays.append(delay)
                kills += 1
        problems = (
            [f"exit code {code}"] if code else differences(args.kind, root / "straight", run_dir)
        )
        killed_trials += bool(delays)
        exact += not problems and bool(delays)
        failures += bool(problems)
        moments = ", ".join(f"{d:.2f}" for d in delays)
        verdict = "; ".join(problems) or ("exact" if delays else "finished before its kill")
        print(f"trial {trial}: killed at [{moments}] s: {verdict}", flush=True)
    print(
        f"kills: {kills} in {killed_trials} trials; trials recovered exactly: {exact}, "
        f"failures: {failures}"
    )


if __name__ == "__main__":
    main()
