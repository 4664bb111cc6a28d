"""The regression study: search space, pruning, divergence, batched folds, resume, CLI."""

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
import optuna
import pytest
import torch

from nndl.data.regression import default_data
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.experiments.datasets import regression_points
from nndl.models import FCNConfig, build_model
from nndl.models.configs import ACTIVATIONS
from nndl.search.regression import _finish, _report_fold, cross_validate
from nndl.search.regression_space import SPACE, RegressionParams
from nndl.search.study import TrainingDiverged
from nndl.training import KFoldCrossValidator, StopReason, TrainConfig
from nndl.training.batched_kfold import BatchedKFoldCrossValidator
from nndl.training.checkpoint import load_regressor
from nndl.training.kfold import FoldResult
from nndl.training.stacked import StackedFCN

SRC = str(Path(__file__).resolve().parents[1] / "src")
REPORT_BEST = {
    "Nh1": 32,
    "Nh2": 128,
    "Nh3": 64,
    "Nh4": 256,
    "activation_function": "Tanh",
    "dropout_prob_2": 0.5,
    "dropout_prob_3": 0.0,
    "lr": 0.001,
    "weight_decay": 0.0,
    "patience": 400,
    "train_batch_size": 30,
}


def nndl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "nndl", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=900,
    )


def test_search_space_is_the_reports() -> None:
    neurons = [8, 16, 32, 64, 128, 256]
    assert {
        "Nh1": neurons,
        "Nh2": neurons,
        "Nh3": neurons,
        "Nh4": neurons,
        "activation_function": ["Tanh", "ReLU"],
        "dropout_prob_2": [0, 0.15, 0.35, 0.5],
        "dropout_prob_3": [0, 0.15, 0.35, 0.5],
        "lr": [1e-4, 5e-4, 0.001, 0.005, 0.01, 0.05],
        "weight_decay": [0, 1e-5, 5e-5, 1e-4, 5e-4, 0.001],
        "patience": [100, 200, 300, 400],
        "train_batch_size": [20, 30, 40, 50],
    } == SPACE
    config = RegressionParams.from_dict(REPORT_BEST).model_config()
    assert config.hidden_sizes == (32, 128, 64, 256) and config.dropout == (0, 0.5, 0, 0)
    assert config.activation == "tanh"


def test_params_file_errors_name_each_key() -> None:
    bad = {**REPORT_BEST, "lr": -1, "Nh2": 0, "colour": "red"}
    del bad["patience"]
    with pytest.raises(ConfigError) as info:
        RegressionParams.from_dict(bad)
    text = str(info.value)
    for part in ("missing key 'patience'", "unknown key 'colour'", "lr = -1", "Nh2 = 0"):
        assert part in text


def points(n: int = 60, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 8 - 4
    return TensorData(x, torch.sin(x) + 0.1 * torch.randn(n, 1, generator=g))


def test_pruning_on_a_scripted_fold_loss_skips_the_remaining_folds() -> None:
    trial = optuna.create_study().ask()
    scripted = {0: 0.2, 1: 0.55, 2: 0.1, 3: 0.1, 4: 0.1}

    def hook(fold: FoldResult) -> bool:
        return _report_fold(trial, dataclasses.replace(fold, val_loss=scripted[fold.fold]))

    config = FCNConfig(1, (8,), "tanh", (), 1)
    train = TrainConfig(loss="mse", batch_size=16, max_epochs=2, patience=None)
    result = KFoldCrossValidator(lambda: build_model(config), train, k=5).run(points(), hook)
    assert [f.fold for f in result.folds] == [0, 1] and result.aborted
    assert "fold 1 validation loss 0.55 > 0.4 " in trial.user_attrs["prune_reason"]
    with pytest.raises(optuna.TrialPruned):
        _finish(trial, result)


def test_a_late_fold_above_threshold_is_not_pruned() -> None:
    trial = optuna.create_study().ask()
    fold = FoldResult(3, 0.1, 0.9, 5, StopReason.PATIENCE, 0.1, None, None)  # type: ignore[arg-type]
    assert _report_fold(trial, fold) and "prune_reason" not in trial.user_attrs


@pytest.mark.parametrize(
    ("optimizer", "decay", "activation", "fourier"),
    [
        ("adam", 1e-4, "tanh", 0.0),
        ("adamw", 0.5, "tanh", 0.0),
        ("adam", 1e-4, "snake", 0.0),
        ("adam", 1e-4, "gelu", 1.0),
    ],
)
def test_batched_folds_match_sequential_folds(
    optimizer: str, decay: float, activation: str, fourier: float
) -> None:
    config = FCNConfig(1, (16, 16), activation, (0.0, 0.0), 1, fourier)
    settings = {"lr": 5e-3, "weight_decay": decay, "batch_size": 7, "max_epochs": 25}
    train = TrainConfig(loss="mse", optimizer=optimizer, **settings, patience=3, seed=5)
    data = points(53)  # folds of 11 and 10 rows: members take different numbers of steps
    batched = sorted(
        BatchedKFoldCrossValidator(config, train, k=5).run(data).folds, key=lambda f: f.fold
    )
    sequential = KFoldCrossValidator(lambda: build_model(config), train, k=5).run(data).folds
    assert len({f.epochs for f in sequential}) > 1  # members stop at their own epochs
    for b, s in zip(batched, sequential, strict=True):
        assert b.epochs == s.epochs and b.stop_reason == s.stop_reason
        assert b.history.best_epoch == s.history.best_epoch
        assert b.val_loss == pytest.approx(s.val_loss, rel=1e-4)
        assert b.train_loss == pytest.approx(s.train_loss, rel=1e-4)
        x = torch.linspace(-4, 4, 9).reshape(-1, 1)
        torch.testing.assert_close(b.model(x), s.model.cpu().eval()(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_stacked_hand_written_gradients_equal_autograd(activation: str) -> None:
    config = FCNConfig(1, (8, 16, 12), activation, (0.0, 0.5, 0.2), 2)
    torch.manual_seed(0)
    model = StackedFCN(config, [build_model(config) for _ in range(3)])
    x, y = torch.randn(3, 10, 1), torch.randn(3, 10, 2)
    weight = torch.ones(3, 10)
    weight[1, 7:] = 0.0  # a member with padded rows
    weight /= weight.sum(1, keepdim=True)
    torch.manual_seed(1)  # the same dropout draws for both
    loss = model.mse_step(x, y, weight)
    by_hand = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    for p in model.parameters():
        p.grad = None
    torch.manual_seed(1)
    expected = ((model(x) - y).pow(2).mean(-1) * weight).sum(1)
    expected.sum().backward()
    torch.testing.assert_close(loss, expected.detach())
    autograd = [p.grad for p in model.parameters()]
    assert len(by_hand) == len(autograd) == 8
    for mine, theirs in zip(by_hand, autograd, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_stacked_fourier_features_are_each_members_own_and_kept_by_keep() -> None:
    config = FCNConfig(2, (8,), "silu", (), 1, fourier=0.5)
    torch.manual_seed(0)
    members = [build_model(config) for _ in range(3)]
    model = StackedFCN(config, members)
    x = torch.randn(3, 6, 2)
    frequencies = model.frequencies
    assert frequencies is not None and frequencies.shape == (3, 2, 32)
    assert not torch.equal(frequencies[0], frequencies[1])  # drawn per member, like weights
    assert 0.3 < float(frequencies.std()) < 0.7  # N(0, 0.5^2)
    for k in range(3):
        torch.testing.assert_close(model(x)[k], members[k](x[k]))
    weight = torch.full((3, 6), 1 / 6)
    model.mse_step(x, torch.randn(3, 6, 1), weight)
    assert all(not p.requires_grad or p.grad is not None for p in model.parameters())
    model.keep([2, 0])
    torch.testing.assert_close(model.member(0)(x[2]), members[2](x[2]))
    torch.testing.assert_close(model.member(1)(x[0]), members[0](x[0]))


def test_stacked_adam_uses_torchs_fused_kernel_on_cpu() -> None:
    # the probe that picks the kernel fails silently (a slower path) if its call goes wrong
    from nndl.training.stacked import _fused_adam_works

    assert _fused_adam_works(torch.device("cpu"))


def test_divergence_fails_the_trial_with_its_reason_and_the_search_goes_on() -> None:
    data = points()
    exploding = TensorData(data.x, data.y * 1e25)
    params = RegressionParams.from_dict({**REPORT_BEST, "lr": 5.0, "activation_function": "ReLU"})

    def objective(trial: optuna.Trial) -> float:
        d = exploding if trial.number == 0 else data
        result = cross_validate(
            (params if trial.number == 0 else dataclasses.replace(params, lr=1e-3)).as_run(),
            d,
            20,
            on_fold_end=lambda f: _report_fold(trial, f),
        )
        return _finish(trial, result)

    study = optuna.create_study()
    study.optimize(objective, n_trials=2, catch=(TrainingDiverged,))
    first, second = study.trials
    assert first.state == optuna.trial.TrialState.FAIL
    assert "diverged" in first.user_attrs["fail_reason"]
    assert second.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def test_default_data_has_100_training_points() -> None:
    train, test, info = regression_points()
    assert len(train) == 100 and len(test) == 100 and info["train_csv"].startswith("default")


def test_search_resumes_the_same_study_without_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "reg"
    first = nndl("regression", "search", "--quick", "--trials", "1", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    second = nndl("regression", "search", "--quick", "--trials", "2", "--out", str(out), "--quiet")
    assert second.returncode == 0, second.stderr
    study = optuna.load_study(
        study_name="nndl-regression-random-search", storage=f"sqlite:///{out}/study.db"
    )
    first_trials = json.loads(first.stdout)["completed"] + json.loads(first.stdout)["pruned"]
    assert json.loads(first.stdout)["trials_before"] == 0
    assert json.loads(second.stdout)["trials_before"] == first_trials  # the summary says it resumed
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) == 2
    with (out / "random_search.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(study.trials)
    assert list(rows[0])[:16] == [
        "Nh1",
        "Nh2",
        "Nh3",
        "Nh4",
        "activation_function",
        "dropout_prob_1",
        "dropout_prob_2",
        "dropout_prob_3",
        "dropout_prob_4",
        "lr",
        "weight_decay",
        "train_batch_size",
        "patience",
        "avg_train_loss",
        "avg_val_loss",
        "train_time [min]",
    ]
    assert list(rows[0])[16:] == ["trial", "state", "reason"]
    pruned = [r for r in rows if r["state"] == "PRUNED"]
    assert all("validation loss" in r["reason"] or "cap" in r["reason"] for r in pruned)


def test_a_folder_of_another_study_is_not_mixed(tmp_path: Path) -> None:
    out = tmp_path / "reg"
    assert (
        nndl(
            "regression", "search", "--quick", "--trials", "1", "--out", str(out), "--quiet"
        ).returncode
        == 0
    )
    lines = ["input,label"] + [f"{i / 10},{i % 7}" for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(lines))
    other = nndl(
        "regression",
        "search",
        "--quick",
        "--trials",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--train-csv",
        str(tmp_path / "t.csv"),
        "--test-csv",
        str(tmp_path / "t.csv"),
    )
    assert (
        other.returncode == 2
        and "other settings" in other.stderr
        and "Traceback" not in other.stderr
    )
    reseeded = nndl(
        "regression",
        "search",
        "--quick",
        "--trials",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--seed",
        "3",
    )
    assert reseeded.returncode == 2 and "seed: study has 0, this run 3" in reseeded.stderr


def test_another_sampler_seed_joins_the_same_study(tmp_path: Path) -> None:
    """Machines share one study with their own --sampler-seed; folds and weights stay --seed's."""
    out = tmp_path / "reg"
    # the second run, with its own sampler seed, adds one trial (of any state) to the first's
    for trials, sampler_seed in (("1", "0"), ("2", "5")):
        result = nndl(
            "regression",
            "search",
            "--quick",
            "--trials",
            trials,
            "--max-trials",
            trials,
            "--out",
            str(out),
            "--quiet",
            "--sampler-seed",
            sampler_seed,
        )
        assert result.returncode == 0, result.stderr
    study = optuna.load_study(
        study_name="nndl-regression-random-search", storage=f"sqlite:///{out / 'study.db'}"
    )
    assert len(study.trials) == 2 and study.trials[0].params != study.trials[1].params


def test_a_budgets_sampler_draws_the_searchs_trials(tmp_path: Path) -> None:
    from nndl.experiments.budgets import REGRESSION
    from nndl.experiments.regression import RegressionStudy
    from nndl.experiments.regression_search import _study_spec, run_search
    from nndl.search.study import open_study

    budget = dataclasses.replace(REGRESSION["quick"], sampler="tpe", trials=2)
    study = RegressionStudy(out=tmp_path / "reg", budget=budget, quiet=True)
    assert run_search(study)["completed"] == 2
    opened = open_study(_study_spec(study, study.task.points()[0]))
    assert isinstance(opened.sampler, optuna.samplers.TPESampler)
    assert len(opened.trials) == 2
    wrong = dataclasses.replace(study, budget=dataclasses.replace(budget, sampler="TPE"))
    with pytest.raises(ConfigError, match="sampler 'TPE': must be one of random, tpe"):
        run_search(wrong)


@pytest.mark.parametrize("flag", ["--trials", "--workers"])
def test_zero_trials_or_workers_is_a_usage_error(flag: str, tmp_path: Path) -> None:
    result = nndl("regression", "search", flag, "0", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "must be >= 1" in result.stderr


def best_with_params(tmp_path: Path, params: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """`nndl regression best --quick --params FILE` into tmp_path/o, FILE holding ``params``."""
    (tmp_path / "p.json").write_text(json.dumps(params))
    return nndl(
        "regression",
        "best",
        "--quick",
        "--params",
        str(tmp_path / "p.json"),
        "--out",
        str(tmp_path / "o"),
        "--quiet",
    )


def test_bad_params_file_says_which_key(tmp_path: Path) -> None:
    result = best_with_params(tmp_path, {**REPORT_BEST, "lr": "fast"})
    assert (
        result.returncode == 2
        and "lr = 'fast'" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_quick_all_writes_results_and_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "all"
    result = nndl("regression", "all", "--quick", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"basic", "best", "refit", "gp", "search", "space", "data"}
    assert results["space"] == "report"  # the quick budget's
    assert set(results["basic"]) == {"train_loss", "val_loss", "test_loss"}
    assert set(results["best"]) == {
        "train_loss",
        "val_loss",
        "test_loss",
        "ensemble_test_loss",
        "params",
    }
    assert {"completed", "pruned", "failed", "seconds"} <= set(results["search"])
    assert results["search"]["completed"] == 3
    assert set(results["data"]) == {"train_csv", "test_csv", "standardized"}
    refit = results["refit"]
    assert refit["members"] == 5 and results["gp"]["test_loss"] > 0
    assert refit["fold_nets"] == 0 and refit["refits_test_loss"] == refit["test_loss"]
    assert refit["epochs"] == round(statistics.median(refit["fold_best_epochs"]))
    ensemble = load_regressor(out / "refit" / "ensemble.pt")  # its scaling inside: data units
    test = default_data()[1]
    mean, std = ensemble.predict(test.x, return_std=True)
    assert np.mean((mean - test.y) ** 2) == pytest.approx(refit["test_loss"], rel=1e-4)
    assert len(ensemble.members) == 5 and std.mean() == pytest.approx(refit["test_std"], rel=1e-4)
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [
        "figure_1_basic.png",
        "figure_2_best.png",
        "figure_3_weights_activations.png",
    ]
    assert all((out / "figures" / f).stat().st_size > 10_000 for f in figures)


def test_best_with_a_params_file_trains_those_params(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = best_with_params(tmp_path, REPORT_BEST)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert metrics["params"] == {**REPORT_BEST, "dropout_prob_1": 0.0, "dropout_prob_4": 0.0}
    assert len(metrics["fold_val_losses"]) == 5 and metrics["val_loss"] == min(
        metrics["fold_val_losses"]
    )
    from nndl import load_checkpoint

    net = load_checkpoint(out / "best" / "model.pt").model
    assert net.config.hidden_sizes == (32, 128, 64, 256)  # type: ignore[union-attr]
    assert (out / "figures" / "figure_2_best.png").is_file()


def test_the_smooth_space_on_blocked_folds_runs_the_whole_study(tmp_path: Path) -> None:
    out = tmp_path / "smooth"
    flags = ["--quick", "--space", "smooth", "--folds", "blocked", "--quiet"]
    result = nndl("regression", "all", *flags, "--out", str(out))
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    params = results["best"]["params"]
    assert set(params) == {
        "width",
        "depth",
        "activation",
        "dropout",
        "lr",
        "weight_decay",
        "batch_size",
    }
    assert params["activation"] in ("gelu", "silu", "tanh")
    ensemble = load_regressor(out / "refit" / "ensemble.pt")
    assert ensemble.members[0].config.hidden_sizes == (params["width"],) * params["depth"]
    with (out / "random_search.csv").open() as f:
        assert next(iter(csv.DictReader(f))).keys() >= set(params)


def test_a_smooth_space_with_fourier_scales_chooses_them_and_the_default_does_not() -> None:
    from nndl.search.smooth_space import SmoothRegressionSpace

    class Fourier(SmoothRegressionSpace):
        fourier = (0.5, 1.0)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    runs = [Fourier().suggest(study.ask()) for _ in range(8)]
    assert {r.model.fourier for r in runs} == {0.5, 1.0}
    assert all(r.params["fourier"] == r.model.fourier for r in runs)
    assert Fourier().from_params(runs[0].params).model == runs[0].model
    plain = SmoothRegressionSpace().suggest(study.ask())
    assert "fourier" not in plain.params and plain.model.fourier == 0.0
    assert "fourier" not in SmoothRegressionSpace().columns
