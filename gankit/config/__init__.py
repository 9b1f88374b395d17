"""Experiment configuration: what to build and how to train it, checked in one place.

- `schema`: the frozen dataclasses `GANConfig` (``generator``, ``discriminator``,
  ``train`` sections) with working defaults and documented fields, the words each text
  field accepts, `to_dict` (JSON), `resolved` ('auto' precision made concrete for this
  device) and `config_hash` (names run directories).
- `overrides`: the one way in from outside the code: `with_overrides(config,
  {"train.g_lr": 1e-3})`, `from_dict`, `load_config` (a JSON file), `parse_overrides`
  (command-line ``key=value`` text); each checks keys and value types the same way.
- `rules`: `validate(config)`, every rule a config must meet before training.

Presets by name are in `gankit.presets`.
"""

from gankit.config.overrides import (
    from_dict,
    load_config,
    parse_overrides,
    parse_value,
    valid_keys,
    with_overrides,
)
from gankit.config.rules import validate
from gankit.config.schema import (
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    TrainConfig,
    config_hash,
    is_quick,
    resolved,
    to_dict,
)

__all__ = [
    "DiscriminatorConfig",
    "GANConfig",
    "GeneratorConfig",
    "TrainConfig",
    "config_hash",
    "from_dict",
    "is_quick",
    "load_config",
    "parse_overrides",
    "parse_value",
    "resolved",
    "to_dict",
    "valid_keys",
    "validate",
    "with_overrides",
]
