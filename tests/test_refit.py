"""The regression study's answer and its scale-freedom: the refit ensemble, the scaling kept in
checkpoints, the pruning rule relative to the labels' variance, the Gaussian-process row."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nndl.data.regression import RegressionData, default_data, target_function, write_csv
from nndl.data.tensors import TensorData
from nndl.models import FCNConfig
from nndl.search.regression import (
    PRUNE_FRACTION,
    label_noise,
    label_variance,
    prune_threshold,
    refit_epochs,
)
from nndl.tasks.regression import RegressionTask
from nndl.training import TrainConfig
from nndl.training.checkpoint import load_regressor
from nndl.training.ensemble import train_ensemble
from nndl.training.evolver import History
from nndl.training.kfold import FoldResult, StopReason
from stored_study import stored_study

SRC = str(Path(__file__).resolve().parents[1] / "src")


def nndl(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "nndl", *args], capture_output=True, text=True, env=env, timeout=900
    )


def csv_pair(
    folder: Path, x_scale: float = 1.0, y_scale: float = 1.0, noise: float = 0.0
) -> list[str]:
    """The built-in data as the report's input,label files, inputs and labels scaled; with
    ``noise``, the labels are the built-in function plus noise of that std instead."""
    folder.mkdir(parents=True, exist_ok=True)
    rng, paths = np.random.default_rng(5), []
    for name, d in zip(("train", "test"), default_data(), strict=True):
        y = d.y if not noise else target_function(d.x) + rng.normal(0, noise, len(d.x))
        path = folder / f"{name}.csv"
        write_csv(path, RegressionData(d.x * x_scale, np.float32(y) * y_scale, str(path)))
        paths += [f"--{name}-csv", str(path)]
    return paths


def fold(number: int, best_epoch: int | None, epochs: int) -> FoldResult:
    history = History([{"epoch": e, "train_loss": 1.0} for e in range(1, epochs + 1)])
    history.best_epoch = best_epoch
    return FoldResult(
        number, 1.0, 1.0, epochs, StopReason.PATIENCE, 0.0, history, torch.nn.Linear(1, 1)
    )


def test_refit_epochs_are_the_median_of_the_folds_restored_best_epochs() -> None:
    folds = [
        fold(0, 120, 400),
        fold(1, 30, 330),
        fold(2, 250, 550),
        fold(3, None, 90),
        fold(4, 7, 307),
    ]
    assert refit_epochs(folds) == 90  # median of 120, 30, 250, 90 (its last epoch), 7
    assert refit_epochs(folds[:2]) == 75


@pytest.mark.parametrize(("optimizer", "decay"), [("adam", 0.0), ("adamw", 0.5)])
def test_the_ensembles_members_differ_by_seed_only(optimizer: str, decay: float) -> None:
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(60, 2, generator=gen) * 4 - 2
    data = TensorData(x, torch.sin(x.sum(1, keepdim=True)))
    config = FCNConfig(2, (16, 8), "tanh", (), 1)
    options = {"optimizer": optimizer, "weight_decay": decay, "batch_size": 16}
    train = TrainConfig(lr=5e-3, loss="mse", **options, max_epochs=1, seed=11)
    stacked = train_ensemble(config, train, data, members=3, epochs=12)
    for i, member in enumerate(stacked):  # each is the net trained alone with seed 11 + i
        settings = dataclasses.replace(train, seed=11 + i)
        alone = train_ensemble(config, settings, data, members=1, epochs=12, batched=False)[0]
        for a, b in zip(member.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    first, second = (next(iter(m.parameters())) for m in stacked[:2])
    assert not torch.equal(first, second)


def test_the_stacked_epochs_keep_every_epochs_members_and_end_where_the_ensemble_does() -> None:
    from nndl.training._rng import forked
    from nndl.training.ensemble import _stacked_epochs

    gen = torch.Generator().manual_seed(4)
    x = torch.rand(50, 1, generator=gen) * 4 - 2
    data = TensorData(x, torch.sin(x))
    config = FCNConfig(1, (12, 12), "gelu", (0.1, 0.1), 1)  # dropout: draws during training
    train = TrainConfig(lr=5e-3, loss="mse", batch_size=16, max_epochs=1, seed=2)
    kept = []
    with forked(torch.device("cpu")):
        for model in _stacked_epochs(config, train, data, members=2, epochs=6):
            with forked(torch.device("cpu")):  # a copy draws initial weights
                kept.append([model.member(k) for k in range(2)])
    assert len(kept) == 7  # untrained, then after each of 6 epochs
    ensemble = train_ensemble(config, train, data, members=2, epochs=6)
    for member, net in zip(kept[-1], ensemble, strict=True):
        for a, b in zip(member.parameters(), net.parameters(), strict=True):
            assert torch.equal(a, b)
    untrained, trained = (next(iter(m[0].parameters())) for m in (kept[0], kept[-1]))
    assert not torch.equal(untrained, trained)


def test_the_relative_threshold_is_the_reports_on_labels_of_the_reports_variance(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, 100)
    y = np.sin(1.2 * x) + x / 4 + rng.normal(0, 0.05, 100)
    y = (y - y.mean()) / y.std() * np.sqrt(3.8)  # the report's labels' variance, little noise
    paths = []
    for name in ("train", "test"):
        path = tmp_path / f"{name}.csv"
        write_csv(path, RegressionData(x, y, str(path)))
        paths.append(str(path))
    for task in (RegressionTask(*paths), RegressionTask(*paths, standardize=False)):
        noise = label_noise(task)
        assert noise < 0.05 * 3.8  # the labels' noise, as the Gaussian process estimates it
        assert prune_threshold(label_variance(task), noise=noise) == pytest.approx(0.4, rel=1e-5)
    assert pytest.approx(0.105, abs=5e-4) == PRUNE_FRACTION
    # the floor: labels of the same variance that are mostly noise prune only above the noise
    assert prune_threshold(3.8, noise=3.0) == 4.0 * 3.0


def search_states(out: Path) -> list[tuple[str, str]]:
    with open(out / "random_search.csv", newline="") as f:
        return [(r["trial"], r["state"]) for r in csv.DictReader(f)]


def test_scaled_labels_prune_the_same_trials_as_the_original(tmp_path: Path) -> None:
    # powers of two scale float32 numbers exactly, so the standardized numbers the nets see
    # are the same bits and any difference would be the pruning rule's (bench/regression_quality
    # compares x 1000 / x 100 copies, equal within float rounding's noise)
    runs = {}
    for name, scales in {"plain": (1.0, 1.0), "scaled": (1024.0, 128.0)}.items():
        out = tmp_path / name
        data = csv_pair(tmp_path / f"{name}-data", *scales, noise=0.05)  # under the fraction
        args = ("--trials", "2", "--max-trials", "6", "--prune-fraction", "0.06")
        result = nndl("regression", "search", "--quick", *args, *data, "--out", str(out), "--quiet")
        assert result.returncode == 0, result.stderr
        runs[name] = search_states(out)
    assert runs["plain"] == runs["scaled"]
    assert 0 < sum(state == "PRUNED" for _, state in runs["plain"]) < len(runs["plain"])


def test_a_search_that_completes_nothing_says_so_in_one_line(tmp_path: Path) -> None:
    x = np.linspace(-3, 3, 60)
    data = []
    for name in ("train", "test"):  # noiseless: no noise floor under a tiny prune fraction
        path = tmp_path / f"{name}.csv"
        write_csv(path, RegressionData(x, np.sin(x), str(path)))
        data += [f"--{name}-csv", str(path)]
    args = ("--trials", "1", "--max-trials", "2", "--prune-fraction", "0.001", *data)
    result = nndl("regression", "search", "--quick", *args, "--out", str(tmp_path / "s"), "--quiet")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr
    assert "completed no trial (2 pruned, 0 failed" in lines[0] and "--prune-fraction" in lines[0]


def test_a_trained_regression_net_keeps_its_scaling_and_predicts_in_data_units(
    tmp_path: Path,
) -> None:
    data = csv_pair(tmp_path / "data", 1000.0, 100.0)
    out = tmp_path / "run"
    result = nndl(
        "train", "--task", "regression", *data, "--epochs", "40", "--out", str(out), "--quiet"
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    net = load_regressor(out / "model.pt")
    test = default_data()[1]
    predicted, std = net.predict(test.x * 1000.0, return_std=True)
    mse = float(np.mean((predicted - test.y.astype(np.float64) * 100.0) ** 2))
    assert mse == pytest.approx(metrics["test_loss"], rel=1e-4)
    assert metrics["test_loss"] > 100.0 and not std.any()  # data units; one net: no spread


def test_the_answer_refits_the_top_configurations_and_a_scaled_copy_chooses_the_same(
    tmp_path: Path,
) -> None:
    # the smooth space, 4 completed trials ranked again on 5 more folds, the 3 best refit as 2
    # seeds each; labels x 128 and inputs x 1024 (exact in float32) must choose the same three
    chosen = {}
    for name, scales in {"plain": (1.0, 1.0), "scaled": (1024.0, 128.0)}.items():
        out = tmp_path / name
        data = csv_pair(tmp_path / f"{name}-data", *scales)
        flags = ["--quick", "--space", "smooth", "--trials", "4", *data, "--out", str(out)]
        answer = ["--refit-configs", "3", "--refit-members", "2", "--finalists", "4"]
        result = nndl("regression", "all", *flags, *answer)
        assert result.returncode == 0, result.stderr
        refit = json.loads((out / "results.json").read_text())["refit"]
        assert refit["configs"] == 3 and len(refit["runner_ups"]) == 2
        assert refit["finalists"] == 4
        # the answer's first configuration's epochs: the median of its 5 + 5 folds'
        assert len(refit["fold_best_epochs"]) == 10
        assert refit["epochs"] == max(1, round(statistics.median(refit["fold_best_epochs"])))
        ensemble = load_regressor(out / "refit" / "ensemble.pt")
        configs = [net.config for net in ensemble.members]
        assert len(configs) == 6 and len(set(configs)) == 3  # 3 configurations x 2 seeds
        chosen[name] = [refit["params"], *(r["params"] for r in refit["runner_ups"])]
    assert chosen["plain"] == chosen["scaled"]


def test_the_fold_nets_join_the_refit_nets_in_the_answer(tmp_path: Path) -> None:
    from nndl import load_checkpoint
    from nndl.experiments.budgets import REGRESSION
    from nndl.models.scaled import ScaledRegressor

    assert REGRESSION["default"].fold_nets and not REGRESSION["quick"].fold_nets
    params = {"Nh1": 16, "Nh2": 32, "Nh3": 16, "Nh4": 32, "activation_function": "Tanh"}
    params |= {"dropout_prob_2": 0.0, "dropout_prob_3": 0.0, "lr": 0.01, "weight_decay": 0.0}
    (tmp_path / "p.json").write_text(json.dumps({**params, "patience": 50, "train_batch_size": 20}))
    out = tmp_path / "o"
    flags = ["--quick", "--params", str(tmp_path / "p.json"), "--refit-members", "2"]
    result = nndl("regression", "best", *flags, "--fold-nets", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    refit = json.loads((out / "refit" / "metrics.json").read_text())
    assert refit["fold_nets"] == 5 and refit["members"] == 2
    ensemble = load_regressor(out / "refit" / "ensemble.pt")
    assert len(ensemble.members) == 2 + 5
    # the report's protocol's best fold net is one of the answer's nets
    best = load_checkpoint(out / "best" / "model.pt").model.state_dict()
    same = [
        all(torch.equal(v, net.state_dict()[k]) for k, v in best.items())
        for net in ensemble.members
    ]
    assert same[2:].count(True) == 1 and not any(same[:2])
    # the answer is the mean of all 7; refits_test_loss is that of the 2 refit nets alone
    test = default_data()[1]
    refits = ScaledRegressor(ensemble.members[:2], ensemble.scaling)
    for model, key in ((ensemble, "test_loss"), (refits, "refits_test_loss")):
        assert np.mean((model.predict(test.x) - test.y) ** 2) == pytest.approx(refit[key], rel=1e-4)
    assert refit["test_loss"] != refit["refits_test_loss"]


def test_the_fourier_space_takes_its_scales_from_the_data_whatever_its_units(
    tmp_path: Path,
) -> None:
    import optuna

    from nndl.errors import ConfigError, UsageError
    from nndl.experiments.budgets import REGRESSION
    from nndl.experiments.regression import RegressionStudy
    from nndl.search.spaces import get_space

    # a faster wave gets a higher scale; unprepared, the space refuses to sample
    space, rng = get_space("fourier", "regression"), np.random.default_rng(0)
    x = np.linspace(-1.7, 1.7, 100)
    waves = {w: np.sin(w * x) + rng.normal(0, 0.1, 100) for w in (1, 5)}
    slow, fast = (space.prepared(x, y) for y in waves.values())
    assert fast.fourier[0] > 2 * slow.fourier[0] > 0
    assert fast.fourier[1] == pytest.approx(fast.fourier[0] / 2, rel=0.01)  # S and S / 2
    # an input that does not matter leaves the scale of the one that does
    both = space.prepared(np.c_[x, rng.normal(size=100)], waves[5]).fourier[0]
    assert both == pytest.approx(fast.fourier[0], rel=0.1)
    with pytest.raises(UsageError, match=r"prepared\(x, y\)"):
        space.suggest(optuna.create_study().ask())
    study = optuna.create_study()  # one study, data of another scale: one clear error
    slow.suggest(study.ask())
    with pytest.raises(ConfigError, match="trials have others"):
        fast.suggest(study.ask())
    # the study: every trial and every refit net has one of the study's two scales, the same
    # for a scaled copy searched by two worker processes
    scales = {}
    for name, units in {"plain": (1.0, 1.0), "scaled": (1024.0, 128.0)}.items():
        out = tmp_path / name
        data = csv_pair(tmp_path / f"{name}-data", *units)
        flags = ["--quick", "--space", "fourier", "--trials", "2", *data, "--out", str(out)]
        workers = ["--workers", "2"] if name == "scaled" else []
        result = nndl("regression", "all", *flags, *workers, "--refit-members", "2")
        assert result.returncode == 0, result.stderr
        paths = dict(zip(data[::2], data[1::2], strict=True))
        study = RegressionStudy(
            out=out,
            train_csv=paths["--train-csv"],
            test_csv=paths["--test-csv"],
            budget=REGRESSION["quick"],
            space="fourier",
        )
        scales[name] = set(study.search_space.fourier)
        stored = stored_study(out)  # what the run's workers searched and recorded
        assert set(stored.user_attrs["nndl_settings"]["space"]["fourier"]) == scales[name]
        assert all(set(t.distributions["fourier"].choices) == scales[name] for t in stored.trials)
        with (out / "random_search.csv").open() as f:
            chosen = {float(row["fourier"]) for row in csv.DictReader(f)}
        ensemble = load_regressor(out / "refit" / "ensemble.pt")
        assert {net.config.fourier for net in ensemble.members} <= chosen <= scales[name]
    assert scales["plain"] == scales["scaled"] and len(scales["plain"]) == 2


def test_a_second_ranking_refits_the_best_finalists_on_twice_the_folds(tmp_path: Path) -> None:
    from nndl.experiments.budgets import REGRESSION
    from nndl.experiments.regression import RegressionStudy
    from nndl.experiments.regression_search import (
        _study_spec,
        best_params,
        run_search,
        second_ranking,
    )
    from nndl.search.study import open_study

    budget = dataclasses.replace(REGRESSION["quick"], trials=5, finalists=4)
    study = RegressionStudy(out=tmp_path, budget=budget, space="smooth", quiet=True)
    run_search(study)
    best = best_params(study, None)
    trials = open_study(_study_spec(study, study.task.points()[0])).trials
    done = sorted((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    finalists = [json.dumps(t.params, sort_keys=True) for t in done[:4]]
    ranked = second_ranking(study, best)
    chosen = [json.dumps(run.to_dict(), sort_keys=True) for _, run, _ in ranked]
    assert sorted(chosen) == sorted(finalists)
    assert [loss for loss, _, _ in ranked] == sorted(loss for loss, _, _ in ranked)
    assert all(len(epochs) == 10 and min(epochs) >= 1 for _, _, epochs in ranked)
    again = second_ranking(study, best)
    assert [(loss, run.to_dict()) for loss, run, _ in again] == [
        (loss, run.to_dict()) for loss, run, _ in ranked
    ]
    outsider = study.search_space.run(dict(done[-1].params))
    assert second_ranking(study, outsider) == []  # not the search's best: a params file's
    # the second cut on short blocks: ranked by the mean of both cuts, or by the blocks alone
    search_loss = {json.dumps(t.params, sort_keys=True): t.value for t in done[:4]}
    both = second_ranking(study, best, folds="short")
    mean = {json.dumps(r.to_dict(), sort_keys=True): x for x, r, _ in both}
    alone = second_ranking(study, best, folds="short", alone=True)
    assert [loss for loss, _, _ in alone] == sorted(loss for loss, _, _ in alone)
    for loss, run, _ in alone:
        key = json.dumps(run.to_dict(), sort_keys=True)
        assert mean[key] == pytest.approx((search_loss[key] + loss) / 2)
    assert [x for x, _, _ in alone] != [x for x, _, _ in ranked]  # other folds, other losses
