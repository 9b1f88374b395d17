"""Configs from the command line: JSON config files and ``key=value`` overrides.

A config file is the JSON of `gankit.config.to_dict` (the ``config.json`` of every run
directory is one), so ``gankit train runs/<run>/config.json`` retrains exactly that run.
Overrides are written as on the command line, ``train.g_lr=1e-3 generator.norm=none``:
values are read as JSON where they can be (numbers, ``true``, ``null``, ``[256, 512]``)
and as text otherwise, then checked against the field's declared type.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gankit.config import (
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    TrainConfig,
    from_dict,
    to_dict,
    with_overrides,
)
from gankit.io import atomic_write

_SECTIONS = {
    "generator": GeneratorConfig,
    "discriminator": DiscriminatorConfig,
    "train": TrainConfig,
}


def valid_keys() -> list[str]:
    """Every override key: ``name`` and ``section.field`` for each config field."""
    return ["name"] + [
        f"{section}.{f.name}" for section, cls in _SECTIONS.items() for f in dataclasses.fields(cls)
    ]


def save_config(config: GANConfig, path: str | os.PathLike[str]) -> Path:
    """Writes ``config`` as indented JSON with sorted keys (atomically) and returns the path."""
    if not isinstance(config, GANConfig):
        raise TypeError(f"config must be a GANConfig, got {type(config).__name__}")
    path = Path(path)
    with atomic_write(path) as f:
        f.write(json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n")
    return path


def load_config(path: str | os.PathLike[str]) -> GANConfig:
    """The config in the JSON file at ``path`` (as written by `save_config` or a run).

    Raises:
      FileNotFoundError: no such file.
      ValueError: not JSON, not an object, or unknown sections or fields.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object of config sections")
    try:
        return from_dict(data)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{path}: {err}") from err


def parse_value(text: str, key: str | None = None) -> Any:
    """A command-line value: JSON if it parses (``1e-3``, ``64``, ``[1, 2]``, ``null``,
    ``true``), ``None``/``none`` as None, ``True``/``False`` as bools, else the text.

    With the config ``key`` it is read for that field's type: text for a text field
    (``generator.norm=none`` is the string 'none'), None from 'none' only where the field
    allows None (``train.n_train=none``).
    """
    types = _field_types(key) if key is not None else None
    if types is not None and "str" in types and not text.startswith('"'):
        if "None" in types and text in ("None", "none", "null"):
            return None
        return text
    if text in ("None", "none"):
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        return json.loads(text)
    except ValueError:
        return text


def _field_types(key: str) -> set[str] | None:
    """The type names of config field ``key`` (e.g. {'int', 'None'}), None if unknown."""
    if key == "name":
        return {"str"}
    section, _, name = key.partition(".")
    cls = _SECTIONS.get(section)
    if cls is None or name not in {f.name for f in dataclasses.fields(cls)}:
        return None
    return _type_names(cls, name)


def _suggest(key: str) -> str:
    close = difflib.get_close_matches(key, valid_keys(), n=3, cutoff=0.6)
    if not close and "." not in key:  # a bare field name: find its section
        close = [k for k in valid_keys() if k.endswith(f".{key}")]
    return f" Did you mean {' or '.join(close)}?" if close else ""


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["train.g_lr=1e-3", "generator.norm=none"]`` as a dict of typed values.

    Raises:
      ValueError: an item without ``=``, an unknown key (with the closest valid keys), or
        a key given twice.
    """
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(
                f"override {item!r} must look like section.field=value, e.g. train.g_lr=1e-3"
            )
        if key in overrides:
            raise ValueError(f"override {key!r} is given twice")
        overrides[key] = parse_value(text.strip(), key)
    check_overrides(overrides)
    return overrides


def _type_names(cls: type, name: str) -> set[str]:
    # Annotations are strings (postponed evaluation), e.g. "int | None", "tuple[int, ...]".
    annotation = next(f.type for f in dataclasses.fields(cls) if f.name == name)
    return {part.strip().split("[")[0] for part in str(annotation).split("|")}


def _matches(value: Any, types: set[str]) -> bool:
    checks = {
        "None": value is None,
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "tuple": isinstance(value, list | tuple),
    }
    return any(checks.get(t, True) for t in types)


def check_overrides(overrides: Mapping[str, Any]) -> None:
    """Checks keys and value types of ``overrides`` against the config dataclasses.

    Raises:
      ValueError: an unknown key, naming the closest valid ones.
      TypeError: a value of the wrong type, naming the field's type.
    """
    for key, value in overrides.items():
        if key == "name":
            if not isinstance(value, str) or not value:
                raise TypeError(f"name must be a non-empty string, got {value!r}")
            continue
        section, _, field = key.partition(".")
        cls = _SECTIONS.get(section)
        if cls is None or field not in {f.name for f in dataclasses.fields(cls)}:
            raise ValueError(
                f"unknown config key {key!r}.{_suggest(key)} "
                "See every key with: python -m gankit train dcgan_tuned --print-config"
            )
        types = _type_names(cls, field)
        if not _matches(value, types):
            raise TypeError(
                f"{key} expects {' or '.join(sorted(types))}, got {value!r} "
                f"({type(value).__name__}); e.g. {key}={_example(types)}"
            )
        if "tuple" in types and isinstance(value, list | tuple):
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise TypeError(f"{key} expects a list of ints, got {value!r}")


def _example(types: set[str]) -> str:
    for kind, text in (("tuple", "[256,512]"), ("float", "0.0002"), ("int", "2")):
        if kind in types:
            return text
    return "none" if types == {"None"} else "text"


def apply_overrides(config: GANConfig, overrides: Mapping[str, Any]) -> GANConfig:
    """``config`` with ``overrides`` applied, after `check_overrides`."""
    check_overrides(overrides)
    return with_overrides(config, dict(overrides))
