"""The Evolver cannot be misused: losses follow the targets, metrics have a direction,
validation fractions are honoured, optimizers and schedules by name, seeds stay the user's."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from nndl.data.tensors import TensorData
from nndl.errors import ConfigError, DataError
from nndl.experiments.train import refit_settings
from nndl.models import FCNConfig, build_model
from nndl.training import (
    Callback,
    Checkpoint,
    EarlyStopping,
    Evolver,
    TrainConfig,
    load_checkpoint,
)


def regression(n: int = 60) -> TensorData:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 2, generator=g)
    return TensorData(x, (x.sum(1) + 0.05 * torch.randn(n, generator=g)).numpy())  # 1-D


def classes(n: int = 90) -> TensorData:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    return TensorData((torch.randn(n, 2, generator=g) + y[:, None]).numpy(), y.int().numpy())


def net(outputs: int) -> nn.Module:
    return build_model(FCNConfig(2, (8,), "tanh", (), outputs))


FAST = TrainConfig(max_epochs=3, patience=None, batch_size=16)


def test_arrays_of_any_dtype_are_converted_once() -> None:
    data = TensorData(np.arange(6, dtype=np.float64).reshape(3, 2), np.array([1, 0, 1], np.int32))
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    numbers = TensorData([[1, 2], [3, 4]], [0.5, 1.5])
    assert numbers.y.shape == (2, 1) and numbers.y.dtype == torch.float32
    with pytest.raises(DataError, match=r"x: .* cannot be read as numbers"):
        TensorData(np.array([["a", "b"]]), [1])
    with pytest.raises(DataError, match=r"\(3, 2\) and y \(2,\)"):
        TensorData(np.zeros((3, 2)), np.zeros(2, np.int64))


def test_the_loss_follows_the_targets() -> None:
    history = Evolver(net(1), FAST).fit(regression())
    assert history.rows[-1]["val_loss"] > 0 and "val_accuracy" not in history.rows[-1]
    history = Evolver(net(3), FAST).fit(classes())
    assert 0 <= history.rows[-1]["val_accuracy"] <= 1


@pytest.mark.parametrize(
    ("outputs", "data", "loss", "message"),
    [
        (1, classes, "cross_entropy", "one per class"),
        (1, regression, "cross_entropy", "the targets are numbers"),
        (3, classes, "mse", "the targets are class labels"),
        (3, regression, "mse", r"shape \(3,\) per row but the targets have \(1,\)"),
        (3, regression, "huber", r"loss 'huber'.*shape \(3,\) per row"),
        (2, classes, "auto", "label 2 is out of range"),
    ],
)
def test_a_loss_that_does_not_fit_is_one_error_before_training(  # type: ignore[no-untyped-def]
    outputs, data, loss, message
) -> None:
    config = TrainConfig(max_epochs=3, patience=None, loss=loss)
    with pytest.raises(ConfigError, match=message):
        Evolver(net(outputs), config).fit(data())


def test_early_stopping_on_accuracy_keeps_the_most_accurate_epoch() -> None:
    accuracies = [0.5, 0.9, 0.7, 0.6, 0.8, 0.4]

    class Scripted(Callback):
        def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
            epoch = int(log["epoch"])
            log["val_accuracy"] = accuracies[epoch - 1]
            with torch.no_grad():
                for p in evolver.model.parameters():
                    p.fill_(float(epoch))

    stopper = EarlyStopping(3, monitor="val_accuracy")
    assert stopper.mode == "max"
    evolver = Evolver(net(3), TrainConfig(max_epochs=6, patience=None), [Scripted(), stopper])
    history = evolver.fit(classes())
    assert history.best_epoch == 2 and history.epochs == 5
    assert all(torch.all(p == 2.0) for p in evolver.model.parameters())


def test_a_checkpoint_with_mode_max_saves_the_highest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    values = iter([0.2, 0.6, 0.4])

    class Scripted(Callback):
        def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
            log["val_score"] = next(values)

    path = tmp_path / "best.pt"
    config = TrainConfig(max_epochs=3, patience=None)
    Evolver(net(1), config, [Scripted(), Checkpoint(path, "val_score", "max")]).fit(regression())
    assert load_checkpoint(path).extra == {"epoch": 2}
    with pytest.raises(ConfigError, match="mode 'up'"):
        Checkpoint(path, mode="up")


def test_the_validation_fraction_is_held_out() -> None:
    from nndl.data.split import train_val_split

    config = TrainConfig(max_epochs=2, patience=None, val_fraction=0.25, seed=4)
    evolver = Evolver(net(1), config)
    history = evolver.fit(regression(60))
    _, val_idx = train_val_split(60, 0.25, seed=4)
    assert len(val_idx) == 15
    held_out = evolver.evaluate(regression(60).subset(val_idx))["loss"]
    assert history.rows[-1]["val_loss"] == pytest.approx(held_out, rel=1e-5)


def test_optimizers_by_name_class_or_callable_and_schedules() -> None:
    for optimizer in ("adamw", "RMSprop", torch.optim.Adagrad, lambda p: torch.optim.SGD(p, 0.1)):
        evolver = Evolver(net(1), TrainConfig(max_epochs=2, patience=None, optimizer=optimizer))
        evolver.fit(regression())
        assert np.isfinite(evolver.history.rows[-1]["train_loss"])
    names = {"adamw": torch.optim.AdamW, "RMSprop": torch.optim.RMSprop}
    for name, cls in names.items():
        assert isinstance(Evolver(net(1), TrainConfig(optimizer=name)).optimizer, cls)
    cosine = TrainConfig(max_epochs=4, patience=None, lr=1.0e-2, lr_schedule="cosine")
    lrs = [r["lr"] for r in Evolver(net(1), cosine).fit(regression()).rows]
    assert lrs[0] == pytest.approx(1e-2) and lrs == sorted(lrs, reverse=True) and lrs[-1] > 0
    step = TrainConfig(max_epochs=5, patience=None, lr=1e-2, lr_schedule="step", lr_step=2)
    lrs = [r["lr"] for r in Evolver(net(1), step).fit(regression()).rows]
    assert lrs == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4])


def test_the_plateau_schedule_decays_after_lr_step_epochs_without_a_new_minimum() -> None:
    class Flat(Callback):  # the validation loss never improves after epoch 1
        def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
            log["val_loss"] = 1.0

    plateau = TrainConfig(
        max_epochs=6, patience=None, lr=1e-2, lr_schedule="plateau", lr_step=1, lr_factor=0.5
    )
    rows = Evolver(net(1), plateau, [Flat()]).fit(regression()).rows
    assert [r["lr"] for r in rows] == pytest.approx([1e-2, 1e-2, 1e-2, 5e-3, 5e-3, 2.5e-3])


def test_the_multistep_schedule_decays_after_each_milestone() -> None:
    multistep = TrainConfig(
        max_epochs=6, patience=None, lr=1e-2, lr_schedule="multistep", lr_milestones=[2, 5]
    )
    assert multistep.lr_milestones == (2, 5)  # a settings file's list
    rows = Evolver(net(1), multistep).fit(regression()).rows
    assert [r["lr"] for r in rows] == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-3, 1e-4])
    for milestones, schedule in (((3, 3), "multistep"), ((), "multistep"), ((2,), "step")):
        with pytest.raises(ConfigError, match="lr_milestones"):
            TrainConfig(lr_schedule=schedule, lr_milestones=milestones)


def test_a_refit_replays_the_plateau_cuts_before_the_best_epoch() -> None:
    train = {"lr": 1e-2, "lr_schedule": "plateau", "lr_factor": 0.2, "monitor": "val_accuracy"}
    rates = [1e-2, 1e-2, 1e-2, 2e-3, 2e-3, 4e-4, 4e-4, 8e-5]
    refit = refit_settings(train, rates, 7)
    assert refit == {
        **train,
        "max_epochs": 7,
        "val_fraction": 0.0,
        "patience": None,
        "monitor": "val_loss",
        "lr_schedule": "multistep",
        "lr_milestones": (3, 5),
    }
    assert refit_settings(train, rates, 3)["lr_schedule"] == "constant"
    cosine = refit_settings({**train, "lr_schedule": "cosine"}, rates, 4)
    assert (cosine["lr_schedule"], cosine["max_epochs"]) == ("cosine", 4)
    rows = Evolver(net(1), TrainConfig(**refit)).fit(regression()).rows
    assert [r["lr"] for r in rows] == pytest.approx(rates[:7])  # trained on every row
    assert "val_loss" not in rows[-1]


def test_a_loss_by_name_or_callable() -> None:
    huber = TrainConfig(max_epochs=2, patience=None, loss="huber")
    assert np.isfinite(Evolver(net(1), huber).fit(regression()).rows[-1]["val_loss"])
    mae = TrainConfig(max_epochs=2, patience=None, loss=lambda o, y: (o - y).abs().mean())
    history = Evolver(net(1), mae).fit(regression())
    assert np.isfinite(history.rows[-1]["val_loss"])
    assert TrainConfig(loss=lambda o, y: o).to_dict()["loss"].startswith("test_trainer:")


def test_fit_leaves_every_global_generator_as_it_was() -> None:
    draws = []
    dropout = build_model(FCNConfig(2, (8,), "relu", (0.5,), 1))
    for fit in (False, True):
        torch.manual_seed(5)
        np.random.seed(5)
        random.seed(5)
        if fit:
            Evolver(dropout, TrainConfig(max_epochs=2, patience=2, seed=3)).fit(regression())
        draws.append((torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random()))
    assert draws[0] == draws[1]


def test_the_same_seed_gives_the_same_numbers_another_seed_others() -> None:
    def train(seed: int) -> list[float]:
        torch.manual_seed(0)  # the same initial weights every time
        model = build_model(FCNConfig(2, (8,), "relu", (0.3,), 1))
        return [
            r["train_loss"]
            for r in Evolver(model, TrainConfig(max_epochs=3, patience=None, seed=seed))
            .fit(regression())
            .rows
        ]

    assert train(1) == train(1) and train(1) != train(2)


def test_a_one_output_net_learns_integer_targets_as_numbers() -> None:
    counts = TensorData(regression().x, np.arange(60) % 7)  # integer targets, one output
    history = Evolver(net(1), TrainConfig(max_epochs=3, patience=None)).fit(counts)
    assert np.isfinite(history.rows[-1]["val_loss"]) and "val_accuracy" not in history.rows[-1]
