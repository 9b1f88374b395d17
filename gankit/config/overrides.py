"""Configs from outside the code: overrides, dicts, JSON config files, command-line text.

Every way in goes through one check: a key is ``name`` or ``section.field`` (an unknown
one is a ValueError naming the closest valid keys) and its value must have the field's
declared type (`gankit.config.schema.checked_value`: a TypeError with an example).
``with_overrides(config, {"train.g_lr": 1e-3})`` changes a config; `from_dict` reads the
JSON of `gankit.config.to_dict` through the same check.

A config file is that JSON (the ``config.json`` of every run directory is one), so
``gankit train runs/<run>/config.json`` retrains exactly that run. Overrides are written
as on the command line, ``train.g_lr=1e-3 generator.norm=none``: values are read as JSON
where they can be (numbers, ``true``, ``null``, ``[256, 512]``) and as text otherwise,
then checked against the field's declared type.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gankit.config.schema import SECTIONS, GANConfig, checked_value, field_types


def valid_keys() -> list[str]:
    """Every override key: ``name`` and ``section.field`` for each config field."""
    return ["name"] + [
        f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)
    ]


def with_overrides(config: GANConfig, overrides: Mapping[str, Any]) -> GANConfig:
    """``config`` with dotted keys replaced, e.g. {"train.g_lr": 1e-3, "name": "fast"}.

    Values are stored as their field declares (an int for a float field becomes a float,
    a list for a tuple field a tuple). The result is not validated: see
    `gankit.config.validate`.

    Raises:
      ValueError: for an unknown key, naming the closest valid ones.
      TypeError: for a config that is not a GANConfig, or a value of the wrong type (e.g.
        a string for a float, a bool for an int).
    """
    if not isinstance(config, GANConfig):
        raise TypeError(f"config must be a GANConfig, got {type(config).__name__}")
    parts = {section: getattr(config, section) for section in SECTIONS}
    name = config.name
    for key, value in overrides.items():
        _check_key(key)
        value = checked_value(key, value)
        if key == "name":
            name = value
            continue
        section, _, attr = key.partition(".")
        parts[section] = dataclasses.replace(parts[section], **{attr: value})
    return GANConfig(name=name, **parts)


def from_dict(data: Mapping[str, Any]) -> GANConfig:
    """The inverse of `gankit.config.to_dict`. A missing field takes its default, so a
    config saved before a field existed still loads.

    Raises:
      ValueError: for unknown sections or keys.
      TypeError: for a section that is not a dict, or a value of the wrong type.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"a config must be a dict of sections, got {type(data).__name__}")
    unknown = set(data) - {"name", *SECTIONS}
    if unknown:
        raise ValueError(
            f"unknown config sections {sorted(unknown)}; expected name, {', '.join(SECTIONS)}"
        )
    flat = {"name": data["name"]} if "name" in data else {}
    for section in SECTIONS:
        values = data.get(section, {})
        if not isinstance(values, Mapping):
            raise TypeError(f"config section {section!r} must be a dict of fields, got {values!r}")
        flat.update({f"{section}.{key}": value for key, value in values.items()})
    return with_overrides(GANConfig(), flat)


def load_config(path: str | os.PathLike[str]) -> GANConfig:
    """The config in the JSON file at ``path`` (as a run directory's ``config.json``).

    Raises:
      FileNotFoundError: no such file.
      ValueError: not UTF-8 text, not JSON, not an object, or unknown sections or
        fields (the message starts with the file's path).
      TypeError: a value of the wrong type.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not a UTF-8 text file (a JSON config): {err}") from err
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
    types = field_types(key) if key is not None else None
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


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["train.g_lr=1e-3", "generator.norm=none"]`` as a dict of typed values, each
    checked as `with_overrides` checks it (values stay as parsed: lists stay lists).

    Raises:
      ValueError: an item without ``=``, an unknown key (with the closest valid keys), or
        a key given twice.
      TypeError: a value of the wrong type for its field.
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
        _check_key(key)
        overrides[key] = parse_value(text.strip(), key)
        checked_value(key, overrides[key])
    return overrides


def _check_key(key: str) -> None:
    """Raises ValueError for a key that names no config field, with the closest ones."""
    if field_types(key) is not None:
        return
    close = difflib.get_close_matches(key, valid_keys(), n=3, cutoff=0.6)
    if not close and "." not in key:  # a bare field name: find its section
        close = [k for k in valid_keys() if k.endswith(f".{key}")]
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise ValueError(
        f"unknown config key {key!r}.{hint} Keys are name or section.field with section "
        f"one of {', '.join(SECTIONS)}; see every key with: "
        "python -m gankit train dcgan_tuned --print-config"
    )
