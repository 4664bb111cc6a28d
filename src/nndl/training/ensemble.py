"""An ensemble of one configuration: M nets trained on the same rows, differing by seed only.

Member ``i`` is seeded ``train.seed + i`` (its initial weights and its batch order), trains
for a fixed number of epochs on every row (no validation, no early stopping) and keeps its
last weights. Fully connected nets with Adam (or AdamW) and MSE train as one stacked net (the
batched folds' machinery, :mod:`nndl.training.stacked`), so M members take about the time of one;
other nets train one after the other with the :class:`~nndl.training.evolver.Evolver`.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from nndl.data.tensors import TensorData
from nndl.training.config import TrainConfig

__all__ = ["train_ensemble"]


def train_ensemble(
    config: Any,
    train: TrainConfig,
    data: TensorData,
    *,
    members: int,
    epochs: int,
    batched: bool | None = None,
) -> list[nn.Module]:
    """``members`` nets of ``config`` trained on all of ``data`` for ``epochs`` epochs each.

    ``batched=None`` stacks them where the nets stack (an FCN with Adam or AdamW and MSE); without
    dropout the stacked members are the ones trained alone (tested)."""
    from nndl.training.stacked import stacks

    if batched if batched is not None else stacks(config, train):
        from nndl.training._rng import forked
        from nndl.training.device import resolve_device

        with forked(resolve_device(train.device)):
            return _stacked(config, train, data, members=members, epochs=epochs)
    return [_alone(config, train, data, seed=train.seed + i, epochs=epochs) for i in range(members)]


def _alone(
    config: Any, train: TrainConfig, data: TensorData, *, seed: int, epochs: int
) -> nn.Module:
    from nndl.models.nets import build_model
    from nndl.training._rng import forked
    from nndl.training._rng import seed as seed_rng
    from nndl.training.device import resolve_device
    from nndl.training.evolver import Evolver

    settings = dataclasses.replace(
        train, seed=seed, max_epochs=epochs, patience=None, val_fraction=0.0
    )
    with forked(device := resolve_device(train.device)):
        seed_rng(seed, device)
        model = build_model(config)
    evolver = Evolver(model, settings)
    evolver.fit(data)
    return evolver.model.cpu()


def _stacked(
    config: Any, train: TrainConfig, data: TensorData, *, members: int, epochs: int
) -> list[nn.Module]:
    trained = _stacked_epochs(config, train, data, members=members, epochs=epochs)
    model = deque(trained, maxlen=1)[0]  # the last: after ``epochs`` epochs
    return [model.member(k) for k in range(members)]


def _stacked_epochs(
    config: Any, train: TrainConfig, data: TensorData, *, members: int, epochs: int
) -> Iterator[Any]:
    """The ``members`` nets as one :class:`~nndl.training.stacked.StackedFCN`, untrained, then
    after each of ``epochs`` epochs (the same object, trained on). ``model.member(k)`` copies
    member ``k``; it draws initial weights, so between epochs call it inside ``forked`` to
    keep the later epochs' dropout unchanged. It seeds torch's generators: run it inside
    ``forked`` too (as :func:`train_ensemble` does)."""
    from nndl.models.nets import FCN
    from nndl.training._rng import seed as seed_rng
    from nndl.training.device import resolve_device
    from nndl.training.stacked import StackedFCN, stacked_optimizer

    device = resolve_device(train.device)
    nets = []
    for i in range(members):
        seed_rng(train.seed + i, device)
        nets.append(FCN(config))
    seed_rng(train.seed, device)
    model = StackedFCN(config, nets, device)
    opt = stacked_optimizer(model, train)
    orders = [torch.Generator().manual_seed(train.seed + i) for i in range(members)]
    x, y, n, size = data.x.to(device), data.y.to(device), len(data), train.batch_size
    everyone = list(range(members))
    model.train()
    yield model
    for _ in range(epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(device)
        for start in range(0, n, size):
            rows = order[:, start : start + size]
            weight = torch.full(rows.shape, 1.0 / rows.shape[1], device=device)
            model.mse_step(x[rows], y[rows], weight)
            opt.step(everyone)
        yield model
