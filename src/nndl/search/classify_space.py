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

import math
from typing import Any, ClassVar

import optuna

from nndl.errors import ConfigError
from nndl.models.configs import CNNConfig, conv_output_size
from nndl.search.spaces import Run, SearchSpace, register_space

__all__ = [
    "SPACES",
    "CNNSpace",
    "FeasibleCNNSpace",
    "PooledCNNSpace",
    "cnn_config",
    "describe_space",
    "suggest_cnn",
]

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
        size = max(conv_output_size(size, ks, stride, padding=pad), 0)
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


@register_space
class CNNSpace(SearchSpace):
    """The report's CNN space (section 3.1); some points are invalid nets, pruned unbuilt."""

    name = "report"
    study = "classify"
    columns = (
        "ncl",
        "ch_j",
        "ks_j",
        "stride_j",
        "pad_j",
        "p1",
        "p2",
        "Nh1",
        "Nh2",
        "lr",
        "weight_decay",
    )
    contours: ClassVar[dict[str, list[str]]] = {
        "channels": ["ch1", "ch2"],
        "linear": ["Nh1", "Nh2"],
        "lr_wd": ["lr", "weight_decay"],
    }

    def suggest(self, trial: optuna.Trial) -> Run:
        return self.run(suggest_cnn(trial, self.name))

    def run(self, params: dict[str, Any]) -> Run:
        train = {"lr": float(params["lr"]), "weight_decay": float(params["weight_decay"])}
        return Run(cnn_config(params), train, dict(params))

    def from_params(self, params: dict[str, Any], source: str = "params") -> Run:
        return self.run(_checked_params(params, source))

    def describe(self) -> dict[str, Any]:
        return describe_space()


@register_space
class FeasibleCNNSpace(CNNSpace):
    """The report's CNN space, each layer sampled given the size left: every net is valid."""

    name = "feasible"


def _checked_params(params: dict[str, Any], source: str) -> dict[str, Any]:
    """Every key a params file needs for its ``ncl`` conv layers, each of the right type."""

    n: Any = params.get("ncl")
    if "ncl" not in params:
        raise ConfigError(source, ["missing key 'ncl' (the number of conv layers)"])
    if not _is_int(n):
        raise ConfigError(source, [f"ncl = {n!r}: must be an integer number of conv layers"])
    layer_keys = [f"{k}{j}" for j in range(1, int(n) + 1) for k in ("ch", "ks", "stride", "pad")]
    needed = ["ncl", *layer_keys, "p1", "p2", "Nh1", "Nh2", "lr", "weight_decay"]
    problems = [f"missing key {k!r}" for k in needed if k not in params]
    problems += [f"unknown key {k!r}" for k in params if k not in needed]
    if problems:
        raise ConfigError(source, [*problems, f"expected keys: {', '.join(needed)}"])
    reals = ("p1", "p2", "lr", "weight_decay")
    problems = [
        f"{k} = {params[k]!r}: must be an integer"
        for k in needed
        if k not in reals and not _is_int(params[k])
    ]
    problems += [
        f"{k} = {params[k]!r}: must be a finite number" for k in reals if not _is_real(params[k])
    ]
    if problems:
        raise ConfigError(source, problems)
    cnn_config(params)
    return params


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


AUGMENT_CHOICES = {"none": (), "flip": ("flip",), "crop,flip": ("crop", "flip")}
"""The pooled space's augmentation values: the flat value (params, CSV) and the task's option."""

SEARCHED_AUGMENT = ("flip", "crop,flip")
"""The augmentation the pooled search chooses from. Not ``none``, nor dropout below 0.2: a
trial (10 epochs on 12,000 images) cannot see what their absence costs at 40 epochs on
48,000, so the search ranked unaugmented, barely regularised nets first, which then overfit
(Fashion-MNIST, docs/results.md: 16-32-64 without augmentation 0.9182, with flips 0.9266;
the search's 21-42-84 at dropout 0.04 0.9255, the same at 0.3 0.9283)."""

PLATEAU = {"lr_schedule": "plateau", "lr_step": 3, "lr_factor": 0.2}
"""The pooled space's schedule. On Fashion-MNIST (docs/results.md) a constant rate's
validation loss stalls by about epoch 20; the first cut gains about 0.5-1 point of test
accuracy before early stopping ends the training (a cosine schedule gained nothing: early
stopping ended it before its rate was low)."""

KEEP = {"monitor": "val_accuracy"}
"""The pooled space's nets stop at, and keep, their best validation accuracy. After the rate's
cut a net's validation loss rises (more confident where wrong) while its accuracy still climbs:
the searched best on Fashion-MNIST kept at its lowest loss 0.9265 test accuracy, the same net
at its highest accuracy 0.9293 (docs/results.md). The search's folds rank by the loss still
(``ClassifySearchJob``)."""


@register_space
class PooledCNNSpace(SearchSpace):
    """Conv blocks as in Fashion-MNIST's benchmark nets: 2-3 blocks of a 3x3 conv (stride 1,
    padding 1), batch norm or not, the activation and a 2x2 max-pooling; 12-32 channels in the
    first block on a log scale, doubling with each block (4-53 x the report's DCNN in
    multiply-adds on 28 x 28 grey images, all under the default budget's limit of 55 x); one
    hidden linear layer of 64-512 after dropout 0.2-0.5; lr and weight decay on log scales,
    the rate cut by 5 once more than 3 epochs bring no new best validation loss (``PLATEAU``); the
    training batches flipped, or cropped and flipped (``SEARCHED_AUGMENT``; a params file may
    also say ``none``). Every sampled net is valid for images of at least 8 x 8 pixels."""

    name = "pooled"
    study = "classify"
    columns = ("blocks", "ch1", "batch_norm", "p1", "Nh1", "lr", "weight_decay", "augment")
    contours: ClassVar[dict[str, list[str]]] = {
        "widths": ["ch1", "Nh1"],
        "dropout_lr": ["p1", "lr"],
        "lr_wd": ["lr", "weight_decay"],
    }

    def suggest(self, trial: optuna.Trial) -> Run:
        return self.run(
            {
                "blocks": trial.suggest_int("blocks", 2, 3),
                "ch1": trial.suggest_int("ch1", 12, 32, log=True),
                "batch_norm": trial.suggest_categorical("batch_norm", [True, False]),
                "p1": trial.suggest_float("p1", 0.2, 0.5),
                "Nh1": trial.suggest_int("Nh1", 64, 512, log=True),
                "lr": trial.suggest_float("lr", 1e-4, 3e-3, log=True),
                "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
                "augment": trial.suggest_categorical("augment", list(SEARCHED_AUGMENT)),
            }
        )

    def run(self, params: dict[str, Any]) -> Run:
        blocks, first = int(params["blocks"]), int(params["ch1"])
        config = CNNConfig(
            channels=tuple(min(128, first * 2**j) for j in range(blocks)),
            kernel_sizes=(3,) * blocks,
            strides=(1,) * blocks,
            paddings=(1,) * blocks,
            pools=(2,) * blocks,
            batch_norm=(bool(params["batch_norm"]),) * blocks,
            linear_sizes=(int(params["Nh1"]),),
            dropout=(float(params["p1"]),),
        )
        train = {
            "lr": float(params["lr"]),
            "weight_decay": float(params["weight_decay"]),
            **PLATEAU,
            **KEEP,
        }
        augment = params["augment"]
        if augment not in AUGMENT_CHOICES:
            valid = ", ".join(AUGMENT_CHOICES)
            raise ConfigError("pooled", [f"augment = {augment!r}: valid: {valid}"])
        return Run(config, train, dict(params), task={"augment": AUGMENT_CHOICES[augment]})

    def describe(self) -> dict[str, Any]:
        return {
            "blocks": [2, 3],
            "ch1": [12, 32, "log"],
            "batch_norm": [True, False],
            "p1": [0.2, 0.5],
            "Nh1": [64, 512, "log"],
            "lr": ["1e-4", "3e-3", "log"],
            "weight_decay": ["1e-6", "1e-3", "log"],
            "augment": list(SEARCHED_AUGMENT),
            "schedule": "plateau: lr x 0.2 once more than 3 epochs bring no new best",
            "keep": "the best validation accuracy (the search: the validation loss)",
        }
