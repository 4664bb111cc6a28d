"""Architecture configs, the torch modules built from them, and the named registry."""

from __future__ import annotations

from nndl._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("CNNConfig", "FCNConfig", "ModelConfig"), "nndl.models.configs"),
    **dict.fromkeys(
        ("CNN", "FCN", "build_model", "config_from_dict", "config_to_dict"), "nndl.models.nets"
    ),
    **dict.fromkeys(
        (
            "ModelSpec",
            "create_config",
            "create_model",
            "get_spec",
            "list_models",
            "register_architecture",
            "register_builder",
            "register_model",
        ),
        "nndl.models.registry",
    ),
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
