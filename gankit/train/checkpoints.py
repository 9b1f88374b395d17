"""TensorFlow checkpoints of a run directory, read defensively: which checkpoints exist
(from the state file, or rebuilt from the ckpt-*.index files when that file is damaged),
and whether one reads back whole (every tensor's CRC checked) before anything restores it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import tensorflow as tf

from gankit.io import atomic_write

_CHECKPOINT_NUMBER = re.compile(r"ckpt-(\d+)$")
_STATE_LINE = re.compile(
    r'(model_checkpoint_path|all_model_checkpoint_paths): "(?:[^"]*/)?ckpt-(\d+)"'
    r"|(all_model_checkpoint_timestamps|last_preserved_timestamp): [0-9.eE+-]+"
)


def candidates(directory: Path, run_name: str) -> list[Path]:
    """The checkpoint prefixes listed in ``directory``'s state file, newest first. A state
    file that does not parse, or is missing while ckpt-*.index files exist, is rebuilt
    from those files (with a printed line)."""
    state = directory / "checkpoint"
    numbers = read_state(state) if state.exists() else None
    if numbers is None:
        found = sorted(
            int(m[1])
            for p in directory.glob("ckpt-*.index")
            if (m := re.fullmatch(r"ckpt-(\d+)\.index", p.name))
        )
        if not found:
            return []
        what = "does not parse" if state.exists() else "is missing"
        print(f"{run_name}: {state} {what}; rebuilt from the checkpoint files {epoch_list(found)}")
        lines = [f'model_checkpoint_path: "ckpt-{found[-1]}"']
        lines += [f'all_model_checkpoint_paths: "ckpt-{n}"' for n in found]
        with atomic_write(state) as f:
            f.write("\n".join(lines) + "\n")
        numbers = found
    return [directory / f"ckpt-{n}" for n in sorted(numbers, reverse=True)]


def read_state(path: Path) -> list[int] | None:
    """The checkpoint numbers a TensorFlow checkpoint state file lists; None if it does not
    parse (TensorFlow itself would only log a warning and start from scratch)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    numbers, latest = set(), None
    for line in filter(None, (line.strip() for line in lines)):
        match = _STATE_LINE.fullmatch(line)
        if match is None:
            return None
        if match[1] == "model_checkpoint_path":
            latest = int(match[2])
        if match[2] is not None:
            numbers.add(int(match[2]))
    return None if latest is None else sorted(numbers)


def unreadable(prefix: Path) -> str | None:
    """Why the checkpoint ``prefix`` does not read back, or None if every tensor of it does.
    Reading checks each tensor's CRC; it is done before a restore so that a checkpoint
    failing halfway leaves no object partly restored."""
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    # TensorFlow raises OpError subclasses, but IndexError for a truncated data file.
    except Exception as e:
        return f"does not read back ({type(e).__name__}: {first_line(e)[:120]})"
    return None


def number(prefix: Path) -> int:
    return int(_CHECKPOINT_NUMBER.search(prefix.name)[1])


def epoch_list(epochs: Sequence[int]) -> str:
    """``[1, 2, 3]``, or ``[1, 2, 3, 4, 5, ... 95 more]`` for long lists."""
    shown = ", ".join(str(e) for e in epochs[:5])
    return f"[{shown}{f', ... {len(epochs) - 5} more' if len(epochs) > 5 else ''}]"


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
