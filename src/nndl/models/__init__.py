"""Architecture configs, the torch modules built from them, and the named registry."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    **dict.fromkeys(("CNNConfig", "FCNConfig", "ModelConfig"), "nndl.models.configs"),
    **dict.fromkeys(("CNN", "FCN", "build_model", "config_from_dict"), "nndl.models.nets"),
    **dict.fromkeys(
        ("ModelSpec", "create_config", "create_model", "get_spec", "list_models", "register_model"),
        "nndl.models.registry",
    ),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # imported on first use: checking a config needs no torch
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
