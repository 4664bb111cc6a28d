"""Blocked folds: validation on whole stretches of the inputs, as the regression study's gaps."""

from __future__ import annotations

import numpy as np
import pytest

from nndl.data.folds import BlockedKFold
from nndl.errors import ConfigError


def test_one_input_is_cut_into_contiguous_blocks_covering_every_row_once() -> None:
    x = np.random.default_rng(0).uniform(-5, 5, (101, 1))
    seen = []
    for train, val in BlockedKFold(5).split(x):
        assert len(val) in (20, 21) and not set(train) & set(val)
        inside = (x[:, 0] >= x[val, 0].min()) & (x[:, 0] <= x[val, 0].max())
        assert set(np.flatnonzero(inside)) == set(val)  # no other row inside its stretch
        seen += list(val)
    assert sorted(seen) == list(range(101))


def test_shorter_blocks_spread_each_fold_over_the_range() -> None:
    x = np.random.default_rng(2).uniform(-5, 5, (100, 1))
    rank = np.argsort(np.argsort(x[:, 0]))  # each row's place in x's order
    seen = []
    for _, val in BlockedKFold(5, blocks_per_fold=4).split(x):
        places = np.sort(rank[val])
        stretches = np.split(places, np.flatnonzero(np.diff(places) > 1) + 1)
        assert [len(s) for s in stretches] == [5, 5, 5, 5]
        assert sorted(p // 25 for p in places[::5]) == [0, 1, 2, 3]  # one in each quarter
        seen += list(val)
    assert sorted(seen) == list(range(100))
    with pytest.raises(ConfigError, match="blocks_per_fold = 0: must be at least 1"):
        list(BlockedKFold(5, blocks_per_fold=0).split(x))


def test_several_inputs_are_cut_by_clusters_the_same_for_any_units() -> None:
    x = np.random.default_rng(1).normal(size=(80, 3))
    folds = [val for _, val in BlockedKFold(4, random_state=0).split(x)]
    assert sorted(np.concatenate(folds).tolist()) == list(range(80))
    scaled = [val for _, val in BlockedKFold(4, random_state=0).split(x * [1, 100, 1e4])]
    assert all(np.array_equal(a, b) for a, b in zip(folds, scaled, strict=True))
    spread = np.mean([x[v].std(0).mean() for v in folds])
    assert spread < x.std(0).mean()  # each fold is a region, not a random sample


def test_a_splitter_scikit_learn_takes() -> None:
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import cross_val_score

    x = np.linspace(-3, 3, 60).reshape(-1, 1)
    scores = cross_val_score(Ridge(), x, x[:, 0] * 2, cv=BlockedKFold(3))
    assert scores.shape == (3,) and repr(BlockedKFold(3)).startswith("BlockedKFold(")
    with pytest.raises(ConfigError, match="k = 5 folds of 3 rows"):
        list(BlockedKFold(5).split(np.zeros((3, 1))))


def test_batched_and_sequential_folds_take_the_same_blocked_folds() -> None:
    import torch

    from nndl.data.tensors import TensorData
    from nndl.models import FCNConfig, build_model
    from nndl.training import KFoldCrossValidator, TrainConfig
    from nndl.training.batched_kfold import BatchedKFoldCrossValidator

    g = torch.Generator().manual_seed(0)
    x = torch.rand(50, 1, generator=g) * 4 - 2
    data = TensorData(x, torch.sin(2 * x))
    config = FCNConfig(1, (8,), "silu", (), 1)
    train = TrainConfig(loss="mse", lr=1e-2, batch_size=8, max_epochs=6, patience=3, seed=1)
    blocked = BlockedKFold(5)
    batched = BatchedKFoldCrossValidator(config, train, k=5, cv=blocked)
    sequential = KFoldCrossValidator(lambda: build_model(config), train, cv=blocked)
    folds = [v for _, v in blocked.split(x.numpy())]
    for validator in (batched, sequential):
        assert all(
            np.array_equal(a, b) for (_, a), b in zip(validator.folds(data), folds, strict=True)
        )
    b = sorted(batched.run(data).folds, key=lambda f: f.fold)
    s = sequential.run(data).folds
    for one, other in zip(b, s, strict=True):
        assert one.val_loss == pytest.approx(other.val_loss, rel=1e-4)


def test_the_regression_search_can_validate_on_blocks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import optuna

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    out = tmp_path / "reg"
    search = [sys.executable, "-m", "nndl", "regression", "search", "--quick", "--trials", "1"]
    where = ["--out", str(out), "--quiet"]
    done = subprocess.run(
        [*search, "--folds", "blocked", *where], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["completed"] == 1
    study = optuna.load_study(
        study_name="nndl-regression-random-search", storage=f"sqlite:///{out}/study.db"
    )
    assert study.user_attrs["nndl_settings"]["folds"] == "blocked"
    # the same folder with random folds is another study: refused, naming the setting
    again = subprocess.run([*search, *where], capture_output=True, text=True, env=env)
    assert again.returncode != 0 and "folds" in again.stderr, again.stderr


def test_repeated_folds_train_twice_the_fold_nets_each_row_validated_twice() -> None:
    import optuna
    import torch

    from nndl.data.tensors import TensorData
    from nndl.search.regression import cross_validate, splitter
    from nndl.search.spaces import get_space

    x = np.linspace(-5, 5, 40)[:, None]
    seen = np.concatenate([v for _, v in splitter("repeated", 5, 0).split(x)])
    assert np.array_equal(np.bincount(seen), np.full(40, 2))
    run = get_space("smooth", "regression").suggest(optuna.create_study().ask())
    data = TensorData(torch.tensor(x).float(), torch.sin(torch.tensor(x)).float())
    result = cross_validate(run, data, 3, folds="repeated")
    assert len(result.folds) == 10
