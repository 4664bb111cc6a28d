"""The report's Optuna space for the MNIST CNN (section 3.1), and a feasible variant.

``report``: 2-4 conv layers; channels of layer j (1-based) from 4 to 4 * 2**j; kernel 2-6;
stride 1-4; padding 0/1; two dropout probabilities 0-0.7 (before the two hidden linear
layers); linear sizes 16-256 and 4-128; lr 1e-5..1e-1 and weight decay 1e-7..1e-1, both log.
Some of its points are invalid nets (no pixel survives the strides): the config validation
finds them before any training.

``feasible``: the same space, but each layer's padding, kernel and stride are sampled given
the spatial size left, so every sampled net is valid.
"""

from __future__ import annotations

from typing import Any

import optuna

from nndl.models.configs import CNNConfig, conv_output_size

__all__ = ["SPACES", "cnn_config", "describe_space", "suggest_cnn"]

SPACES = ("report", "feasible")
INPUT_SIZE = 28


def _conv_layers(trial: optuna.Trial, feasible: bool) -> dict[str, int]:
    params: dict[str, int] = {"ncl": trial.suggest_int("ncl", 2, 4)}
    size = INPUT_SIZE
    for j in range(1, params["ncl"] + 1):
        params[f"ch{j}"] = trial.suggest_int(f"ch{j}", 4, 4 * 2**j)
        if feasible:
            pad = trial.suggest_int(f"pad{j}", 0 if size >= 2 else 1, 1)
            ks = trial.suggest_int(f"ks{j}", 2, min(6, size + 2 * pad))
        else:
            pad = trial.suggest_int(f"pad{j}", 0, 1)
            ks = trial.suggest_int(f"ks{j}", 2, 6)
        stride = trial.suggest_int(f"stride{j}", 1, 4)
        params.update({f"pad{j}": pad, f"ks{j}": ks, f"stride{j}": stride})
        size = max(conv_output_size(size, ks, stride, pad), 0)
    return params


def suggest_cnn(trial: optuna.Trial, space: str = "report") -> dict[str, Any]:
    """Sample one point; returns the flat parameter dict (as Optuna stores it)."""
    params: dict[str, Any] = _conv_layers(trial, feasible=space == "feasible")
    params["p1"] = trial.suggest_float("p1", 0.0, 0.7)
    params["p2"] = trial.suggest_float("p2", 0.0, 0.7)
    params["Nh1"] = trial.suggest_int("Nh1", 16, 256)
    params["Nh2"] = trial.suggest_int("Nh2", 4, 128)
    params["lr"] = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    params["weight_decay"] = trial.suggest_float("weight_decay", 1e-7, 1e-1, log=True)
    return params


def cnn_config(params: dict[str, Any], num_classes: int = 10) -> CNNConfig:
    """The (validated) CNN of a parameter dict; raises ConfigError for an invalid net."""
    n = int(params["ncl"])
    layers = range(1, n + 1)
    return CNNConfig(
        channels=tuple(int(params[f"ch{j}"]) for j in layers),
        kernel_sizes=tuple(int(params[f"ks{j}"]) for j in layers),
        strides=tuple(int(params[f"stride{j}"]) for j in layers),
        paddings=tuple(int(params[f"pad{j}"]) for j in layers),
        linear_sizes=(int(params["Nh1"]), int(params["Nh2"])),
        dropout=(float(params["p1"]), float(params["p2"])),
        num_classes=num_classes,
    )


def describe_space() -> dict[str, Any]:
    """The space's ranges, for the study's settings and the report."""
    return {
        "ncl": [2, 4],
        "ch_j": "4 .. 4*2**j",
        "ks": [2, 6],
        "stride": [1, 4],
        "pad": [0, 1],
        "p1": [0.0, 0.7],
        "p2": [0.0, 0.7],
        "Nh1": [16, 256],
        "Nh2": [4, 128],
        "lr": ["1e-5", "1e-1", "log"],
        "weight_decay": ["1e-7", "1e-1", "log"],
    }
