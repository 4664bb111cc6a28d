"""Architecture configs, the torch modules built from them, and the named registry."""

from nndl.models.configs import CNNConfig, FCNConfig, ModelConfig
from nndl.models.nets import CNN, FCN, build_model, config_from_dict
from nndl.models.registry import (
    ModelSpec,
    create_config,
    create_model,
    get_spec,
    list_models,
    register_model,
)

__all__ = [
    "CNN",
    "FCN",
    "CNNConfig",
    "FCNConfig",
    "ModelConfig",
    "ModelSpec",
    "build_model",
    "config_from_dict",
    "create_config",
    "create_model",
    "get_spec",
    "list_models",
    "register_model",
]
