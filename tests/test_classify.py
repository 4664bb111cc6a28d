"""The MNIST study: search space, invalid nets, feasible space, Perlin noise, PDCNN, CLI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch

from nndl.data.perlin import NotADigit, PerlinNoise
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.search.classify import ClassifySearchJob
from nndl.search.classify_space import cnn_config, suggest_cnn

SRC = str(Path(__file__).resolve().parents[1] / "src")


def sampled(space: str, n: int, seed: int = 0) -> list[optuna.trial.FrozenTrial]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(lambda t: (suggest_cnn(t, space), 0.0)[1], n_trials=n)
    return study.trials


def test_search_space_is_the_reports() -> None:
    dist = optuna.distributions
    for trial in sampled("report", 40):
        d = trial.distributions
        assert d["ncl"] == dist.IntDistribution(2, 4)
        for j in range(1, trial.params["ncl"] + 1):
            assert d[f"ch{j}"] == dist.IntDistribution(4, 4 * 2**j)
            assert d[f"ks{j}"] == dist.IntDistribution(2, 6)
            assert d[f"stride{j}"] == dist.IntDistribution(1, 4)
            assert d[f"pad{j}"] == dist.IntDistribution(0, 1)
        assert d["p1"] == d["p2"] == dist.FloatDistribution(0.0, 0.7)
        assert d["Nh1"] == dist.IntDistribution(16, 256) and d["Nh2"] == dist.IntDistribution(
            4, 128
        )
        assert d["lr"] == dist.FloatDistribution(1e-5, 1e-1, log=True)
        assert d["weight_decay"] == dist.FloatDistribution(1e-7, 1e-1, log=True)


def test_report_space_has_invalid_points_feasible_space_has_none() -> None:
    def invalid(trials: list[optuna.trial.FrozenTrial]) -> int:
        count = 0
        for t in trials:
            try:
                cnn_config(t.params)
            except ConfigError:
                count += 1
        return count

    assert invalid(sampled("report", 200)) > 20
    assert invalid(sampled("feasible", 1000, seed=1)) == 0


def test_invalid_architecture_is_pruned_with_its_reason_and_never_trained() -> None:
    params = {
        "ncl": 3,
        "ch1": 8,
        "ks1": 6,
        "stride1": 4,
        "pad1": 0,
        "ch2": 16,
        "ks2": 6,
        "stride2": 4,
        "pad2": 0,
        "ch3": 32,
        "ks3": 6,
        "stride3": 4,
        "pad3": 0,
        "p1": 0.1,
        "p2": 0.1,
        "Nh1": 64,
        "Nh2": 32,
        "lr": 1e-3,
        "weight_decay": 1e-5,
    }
    trial = optuna.trial.FixedTrial(params)
    with pytest.raises(optuna.TrialPruned):
        ClassifySearchJob()._evaluate(trial, None)  # type: ignore[arg-type]  # no data: training would fail
    assert trial.user_attrs["prune_reason"].startswith(
        "invalid architecture: conv layer 3: input 1x1"
    )
    assert trial.user_attrs["invalid_layer"] == "conv layer 3"


def _tiny_search(pruner: optuna.pruners.BasePruner) -> optuna.trial.FrozenTrial:
    gen = torch.Generator().manual_seed(0)
    data = TensorData(
        torch.rand(200, 1, 28, 28, generator=gen), torch.randint(0, 10, (200,), generator=gen)
    )
    job = ClassifySearchJob(space="feasible", max_epochs=3, patience=50)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner)
    study.optimize(lambda t: job._evaluate(t, data), n_trials=1)
    return study.trials[0]


def test_every_epoch_of_every_fold_is_reported_at_its_own_step() -> None:
    trial = _tiny_search(optuna.pruners.NopPruner())
    assert trial.state is optuna.trial.TrialState.COMPLETE
    assert sorted(trial.intermediate_values) == [1, 2, 3, 4, 5, 6]  # fold 0: 1-3, fold 1: 4-6


def test_a_lagging_learning_curve_is_pruned_with_its_reason() -> None:
    trial = _tiny_search(optuna.pruners.ThresholdPruner(upper=0.0))  # any loss lags
    assert trial.state is optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]  # stopped after its first epoch
    assert trial.user_attrs["prune_reason"].startswith("learning curve: fold 0 validation loss")


def test_perlin_noise_is_seeded_bounded_and_smooth() -> None:
    a, b = PerlinNoise(seed=3).sample(16), PerlinNoise(seed=3).sample(16)
    assert torch.equal(a, b) and not torch.equal(a, PerlinNoise(seed=4).sample(16))
    assert a.shape == (16, 1, 28, 28) and a.min() >= 0.0 and a.max() <= 1.0
    assert a.std() > 0.2  # sigmoid(20 x) pushes values towards 0 and 1

    def neighbour_corr(x: torch.Tensor) -> float:
        img = x[:, 0]
        return float(
            torch.corrcoef(torch.stack([img[:, :, :-1].flatten(), img[:, :, 1:].flatten()]))[0, 1]
        )

    assert neighbour_corr(a) > 0.8
    assert abs(neighbour_corr(torch.rand(16, 1, 28, 28))) < 0.1


def test_not_a_digit_replaces_about_9_percent_with_noise_labelled_10() -> None:
    transform = NotADigit(PerlinNoise(seed=0), 0.09, label=10, seed=0)
    x, y = torch.zeros(256, 1, 28, 28), torch.randint(0, 10, (256,))
    y_before = y.clone()
    labels, changed = [], []
    for _ in range(60):
        nx, ny = transform(x, y)
        labels.append(ny)
        changed.append((nx != 0).flatten(1).any(1))
    labels_t, changed_t = torch.cat(labels), torch.cat(changed)
    share = (labels_t == 10).float().mean().item()
    assert 0.08 < share < 0.10
    assert torch.equal(labels_t == 10, changed_t)  # exactly the relabelled samples became noise
    assert torch.equal(y, y_before) and not x.any()  # the caller's batch is not modified


def nndl(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "nndl", *args], capture_output=True, text=True, env=env, timeout=900
    )


@pytest.mark.slow
def test_quick_all_writes_results_csv_and_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "cls"
    result = nndl("classify", "all", "--quick", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results["nets"]) == {"fcn", "cnn", "dcnn", "pdcnn", "best"}
    assert all(
        set(r) == {"train_loss", "val_loss", "test_accuracy"} for r in results["nets"].values()
    )
    assert {
        "completed",
        "pruned_invalid",
        "pruned",
        "failed",
        "seconds",
        "best_params",
        "best_value",
    } <= set(results["search"])
    assert results["search"]["completed"] == 3
    ood = results["ood"]
    # the quick PDCNN already separates noise from digits (0.99 / 0.005 / 0.9999 when measured)
    assert ood["noise_called_noise"] > 0.5 > ood["images_called_noise"] and ood["auroc"] > 0.9
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == sorted(
        [
            "figure_4_probabilities.png",
            "figure_5_activation_maximization.png",
            "figure_6_contour_channels.png",
            "figure_6_contour_linear.png",
            "figure_6_contour_lr_wd.png",
            "figure_6_importances.png",
            "figure_7_feature_maps.png",
            "figure_7_embedding.png",
            "figure_8_fcn_weights.png",
            "confusion_matrix.png",
        ]
    )
    with (out / "optuna_search.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "channels",
        "kernel_sizes",
        "strides",
        "paddings",
        "dropouts_probabilities",
        "Nhs",
        "lr",
        "weight_decay",
        "avg_train_loss",
        "avg_val_loss",
        "train_time [min]",
        "trial",
        "state",
        "reason",
    ]
    invalid = [r for r in rows if r["reason"].startswith("invalid architecture")]
    assert len(invalid) == results["search"]["pruned_invalid"]
    assert all(r["state"] == "PRUNED" for r in invalid)


def test_classify_train_rejects_invalid_architecture_flags(tmp_path: Path) -> None:
    result = nndl(
        "classify",
        "train",
        "--arch",
        "cnn",
        "--kernel-sizes",
        "3,3,9",
        "--out",
        str(tmp_path / "x"),
    )
    assert (
        result.returncode == 2
        and "conv layer 3" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_classify_bad_params_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"ncl": 2, "colour": 1}))
    result = nndl(
        "classify", "best", "--params", str(tmp_path / "p.json"), "--out", str(tmp_path / "o")
    )
    assert (
        result.returncode == 2
        and "unknown key 'colour'" in result.stderr
        and "missing key 'ch1'" in result.stderr
    )


VALID_PARAMS = {
    "ncl": 2,
    "ch1": 8,
    "ks1": 4,
    "stride1": 2,
    "pad1": 1,
    "ch2": 16,
    "ks2": 2,
    "stride2": 1,
    "pad2": 1,
    "p1": 0.2,
    "p2": 0.3,
    "Nh1": 149,
    "Nh2": 72,
    "lr": 3.5e-4,
    "weight_decay": 3.6e-4,
}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ch1", "x", "ch1 = 'x': must be an integer"),
        ("lr", None, "lr = None: must be a finite number"),
        ("ncl", "2", "ncl = '2': must be an integer"),
        ("p1", True, "p1 = True: must be a finite number"),
    ],
)
def test_classify_bad_params_value_is_named(
    key: str, value: object, message: str, tmp_path: Path
) -> None:
    (tmp_path / "p.json").write_text(json.dumps({**VALID_PARAMS, key: value}))
    result = nndl(
        "classify", "best", "--params", str(tmp_path / "p.json"), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_unopenable_storage_says_so(tmp_path: Path) -> None:
    result = nndl(
        "classify",
        "search",
        "--quick",
        "--storage",
        "postgresql+psycopg2://nobody@127.0.0.1:1/none",
        "--out",
        str(tmp_path / "o"),
    )
    assert (
        result.returncode == 1
        and "cannot open the study" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_a_net_above_the_cost_limit_is_pruned_before_training_with_its_reason() -> None:
    import optuna

    from nndl.models import CNNConfig, create_config
    from nndl.search.classify import DCNN_MACS, ClassifySearchJob
    from nndl.search.study import StudySpec, _pruner

    job = ClassifySearchJob(max_macs=2 * DCNN_MACS)
    trial = optuna.create_study().ask()
    job._check_cost(trial, create_config("dcnn"), (1, 28, 28))  # within the limit: trains
    assert trial.user_attrs["macs"] == DCNN_MACS and trial.user_attrs["params"] == 45_114
    # like the report's slowest trial: stride-1 convs of 8 and 15 channels, a wide linear layer
    slow = CNNConfig((8, 15), (4, 2), (1, 1), (0, 0), (128,))
    trial = optuna.create_study().ask()
    with pytest.raises(optuna.TrialPruned):
        job._check_cost(trial, slow, (1, 28, 28))
    assert trial.user_attrs["prune_reason"].startswith("too slow for this budget: 1,")
    assert (
        trial.user_attrs["macs"]
        == 8 * 25 * 25 * 16 + 15 * 24 * 24 * 8 * 4 + 15 * 24 * 24 * 128 + 1280
    )
    spec = StudySpec("s", Path("."), 1, {}, pruner="hyperband")
    assert isinstance(_pruner(spec), optuna.pruners.HyperbandPruner)
