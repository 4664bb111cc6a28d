"""The Evolver, early stopping, divergence, k-fold cross-validation and checkpoints."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler
from torch import nn

from nndl.data.split import kfold_indices, train_val_split
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError, DataError
from nndl.models import FCNConfig, build_model, create_model
from nndl.training import (
    Callback,
    EarlyStopping,
    Evolver,
    KFoldCrossValidator,
    StopReason,
    TrainConfig,
    load_checkpoint,
    save_checkpoint,
)


def regression_data(n: int = 64, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 4 - 2
    return TensorData(x, torch.sin(2 * x) + 0.05 * torch.randn(n, 1, generator=g))


def small_net() -> nn.Module:
    return build_model(FCNConfig(1, (16, 16), "tanh", (), 1))


REG = TrainConfig(loss="mse", lr=1e-2, batch_size=16, max_epochs=30, patience=None)


class ScriptedValidation(Callback):
    """Replaces each epoch's val_loss with a scripted value and stamps the weights with it."""

    def __init__(self, losses: list[float]) -> None:
        self.losses = losses

    def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
        epoch = int(log["epoch"])
        log["val_loss"] = self.losses[epoch - 1]
        with torch.no_grad():
            for p in evolver.model.parameters():
                p.fill_(float(epoch))


def test_early_stopping_stops_at_exact_epoch_and_restores_best_weights() -> None:
    losses = [5.0, 4.0, 3.0, 3.5, 2.0, 2.5, 2.1, 2.2, 9.0, 1.0]
    stopper = EarlyStopping(patience=3)
    config = dataclasses.replace(REG, max_epochs=len(losses))
    evolver = Evolver(small_net(), config, [ScriptedValidation(losses), stopper])
    history = evolver.fit(regression_data(), regression_data(16, seed=1))
    assert history.epochs == 8  # best at epoch 5, then 6, 7, 8 without a new minimum
    assert history.stop_reason is StopReason.PATIENCE
    assert history.best_epoch == 5
    assert all(torch.all(p == 5.0) for p in evolver.model.parameters())


def test_min_delta_ignores_tiny_improvements() -> None:
    losses = [1.0, 0.999, 0.998, 0.997, 0.5]
    config = dataclasses.replace(REG, max_epochs=len(losses))
    evolver = Evolver(
        small_net(), config, [ScriptedValidation(losses), EarlyStopping(2, min_delta=0.01)]
    )
    history = evolver.fit(regression_data(), regression_data(16, seed=1))
    assert history.epochs == 3 and history.best_epoch == 1


def test_patience_in_config_adds_early_stopping() -> None:
    evolver = Evolver(small_net(), dataclasses.replace(REG, patience=4))
    assert any(isinstance(c, EarlyStopping) and c.patience == 4 for c in evolver.callbacks)


def test_training_reduces_loss_and_records_history() -> None:
    evolver = Evolver(small_net(), REG)
    history = evolver.fit(regression_data(), regression_data(16, seed=1))
    assert history.epochs == 30 and history.stop_reason is StopReason.MAX_EPOCHS
    assert history.rows[-1]["train_loss"] < history.rows[0]["train_loss"] / 2
    assert {"epoch", "train_loss", "val_loss", "seconds"} <= set(history.rows[0])


def test_divergence_stops_with_reason_instead_of_training_on_nan() -> None:
    data = regression_data()
    bad = TensorData(data.x, data.y * 1e30)
    evolver = Evolver(small_net(), dataclasses.replace(REG, lr=10.0, optimizer="sgd"))
    history = evolver.fit(bad, regression_data(16, seed=1))
    assert history.stop_reason is StopReason.DIVERGED
    assert history.epochs < REG.max_epochs


def test_classification_reports_accuracy() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, 28, 28, generator=g)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    config = TrainConfig(lr=3e-3, batch_size=32, max_epochs=8, patience=None)
    torch.manual_seed(0)
    evolver = Evolver(create_model("fcn"), config)
    history = evolver.fit(TensorData(x[:192], y[:192]), TensorData(x[192:], y[192:]))
    val_accuracy = evolver.evaluate(TensorData(x[192:], y[192:]))["accuracy"]
    assert history.rows[-1]["val_accuracy"] == val_accuracy  # the last epoch's, as measured
    assert evolver.evaluate(TensorData(x[:192], y[:192]))["accuracy"] > 0.9


def test_monitor_val_accuracy_keeps_the_epoch_of_best_validation_accuracy() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, 28, 28, generator=g)
    y = (x[:, :, :14].mean(dim=(1, 2, 3)) + 0.3 * torch.randn(256, generator=g) > 0).long()
    config = TrainConfig(lr=3e-3, batch_size=32, max_epochs=12, patience=12, monitor="val_accuracy")
    torch.manual_seed(0)
    evolver = Evolver(create_model("fcn"), config)
    val = TensorData(x[192:], y[192:])
    history = evolver.fit(TensorData(x[:192], y[:192]), val)
    accuracies = [row["val_accuracy"] for row in history.rows]
    assert history.best_epoch == 1 + accuracies.index(max(accuracies))
    assert evolver.evaluate(val)["accuracy"] == max(accuracies)  # that epoch's weights, back


def test_an_unknown_monitor_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="monitor 'accuracy': must be one of val_loss, val_acc"):
        TrainConfig(monitor="accuracy")


def fit_once(seed: int) -> list[float]:
    torch.manual_seed(seed)
    config = dataclasses.replace(REG, max_epochs=5, seed=seed)
    history = Evolver(build_model(FCNConfig(1, (16,), "relu", (0.3,), 1)), config).fit(
        regression_data()
    )
    return [r["train_loss"] for r in history.rows]


def test_same_seed_same_result_different_seed_different_result() -> None:
    assert fit_once(3) == fit_once(3)
    assert fit_once(3) != fit_once(4)


def test_kfold_indices_are_disjoint_and_cover_the_data() -> None:
    folds = kfold_indices(103, 5, seed=1)
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(103))
    for train, val in folds:
        assert not set(train) & set(val) and len(train) + len(val) == 103
    assert [len(v) for _, v in folds] == [21, 21, 21, 20, 20]
    assert kfold_indices(103, 5, seed=1)[0][1].tolist() == folds[0][1].tolist()


def test_split_rejects_empty_parts() -> None:
    train, val = train_val_split(100, 0.1, seed=0)
    assert len(train) == 90 and len(val) == 10 and not set(train) & set(val)
    with pytest.raises(ConfigError, match="val_fraction"):
        train_val_split(5, 0.01)


def test_kfold_runs_n_of_k_with_fresh_nets() -> None:
    cv = KFoldCrossValidator(small_net, dataclasses.replace(REG, max_epochs=3), k=5, n_folds=2)
    result = cv.run(regression_data(50))
    assert [f.fold for f in result.folds] == [0, 1] and not result.aborted
    assert result.folds[0].model is not result.folds[1].model
    assert result.mean_val_loss == pytest.approx(np.mean([f.val_loss for f in result.folds]))
    assert result.best().val_loss == min(f.val_loss for f in result.folds)


def test_kfold_hook_aborts_remaining_folds() -> None:
    seen: list[int] = []

    def hook(fold):  # type: ignore[no-untyped-def]
        seen.append(fold.fold)
        return fold.fold < 1

    cv = KFoldCrossValidator(small_net, dataclasses.replace(REG, max_epochs=2), k=5)
    result = cv.run(regression_data(50), on_fold_end=hook)
    assert seen == [0, 1] and len(result.folds) == 2 and result.aborted


def test_checkpoint_round_trip_rebuilds_the_same_net(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = create_model("dcnn")
    save_checkpoint(tmp_path / "m.pt", model, TrainConfig(lr=0.01), extra={"epoch": 3})
    loaded = load_checkpoint(tmp_path / "m.pt")
    assert loaded.model.config == model.config
    assert loaded.train_config == TrainConfig(lr=0.01) and loaded.extra == {"epoch": 3}
    x = torch.rand(2, 1, 28, 28)
    model.eval(), loaded.model.eval()
    assert torch.equal(model(x), loaded.model(x))


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, b"PK\x03\x04truncated"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, content) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"bad\.pt"):
        load_checkpoint(path)


def test_checkpoint_of_foreign_pickle_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(DataError, match="not an nndl checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_train_config_collects_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(lr=0, batch_size=0, optimizer="nesterov", momentum=1.5, device="gpu")
    text = str(info.value)
    for part in (
        "lr = 0",
        "batch_size = 0",
        "optimizer 'nesterov'",
        "momentum = 1.5",
        "device 'gpu'",
    ):
        assert part in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        Evolver(small_net(), dataclasses.replace(REG, device="cuda"))


def test_checkpoint_callback_keeps_the_best_epochs_weights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from nndl.training import Checkpoint

    losses = [3.0, 1.0, 2.0, 4.0]
    config = dataclasses.replace(REG, max_epochs=len(losses))
    path = tmp_path / "best.pt"
    Evolver(small_net(), config, [ScriptedValidation(losses), Checkpoint(path)]).fit(
        regression_data()
    )
    loaded = load_checkpoint(path)
    assert loaded.extra == {"epoch": 2}
    assert all(torch.all(p == 2.0) for p in loaded.model.parameters())


def test_without_validation_data_training_runs_to_max_epochs_and_says_so() -> None:
    config = dataclasses.replace(REG, patience=3, max_epochs=5, val_fraction=0.0)
    with pytest.warns(UserWarning, match="early stopping .patience=3. is off"):
        history = Evolver(small_net(), config).fit(regression_data())
    assert history.epochs == 5 and history.stop_reason is StopReason.MAX_EPOCHS
    assert "val_loss" not in history.rows[-1]


def test_an_explicit_early_stopping_without_validation_data_is_a_clear_error() -> None:
    config = dataclasses.replace(REG, val_fraction=0.0)
    with pytest.raises(ConfigError, match=r"EarlyStopping.monitor='val_loss'. needs validation"):
        Evolver(small_net(), config, [EarlyStopping(3)]).fit(regression_data())


def test_a_reused_checkpoint_callback_saves_the_second_runs_best(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from nndl.training import Checkpoint

    path = tmp_path / "best.pt"
    checkpoint = Checkpoint(path)
    for losses in ([1.0, 2.0], [4.0, 3.0]):  # the second run never beats the first's 1.0
        config = dataclasses.replace(REG, max_epochs=len(losses))
        Evolver(small_net(), config, [ScriptedValidation(losses), checkpoint]).fit(
            regression_data()
        )
    assert load_checkpoint(path).extra == {"epoch": 2} and checkpoint.best == 3.0


@pytest.mark.parametrize(
    ("field", "value"),
    [("batch_size", 2.5), ("lr", None), ("max_epochs", "10"), ("patience", True)],
)
def test_train_config_wrong_types_are_config_errors(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"{field} = "):
        TrainConfig(**{field: value})  # type: ignore[arg-type]


def class_data(n: int = 90, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    labels = torch.tensor([0] * (n // 2) + [1] * (n // 3) + [2] * (n - n // 2 - n // 3))
    return TensorData(torch.randn(n, 3, generator=g) + labels[:, None], labels)


def test_class_labels_are_cut_into_stratified_folds() -> None:
    data = class_data()
    cv = KFoldCrossValidator(lambda: nn.Linear(3, 3), TrainConfig(max_epochs=1), k=3)
    share = np.bincount(data.y.numpy()) / len(data)
    for train_idx, val_idx in cv.folds(data):
        assert np.allclose(np.bincount(data.y.numpy()[val_idx]) / len(val_idx), share)
        assert not set(train_idx) & set(val_idx)


def test_any_splitter_cuts_the_folds_and_gets_the_groups() -> None:
    from sklearn.model_selection import GroupKFold

    data = class_data(60)
    groups = np.repeat(np.arange(6), 10)
    cv = KFoldCrossValidator(
        lambda: nn.Linear(3, 3), TrainConfig(max_epochs=2, patience=None), cv=GroupKFold(3)
    )
    assert cv.k == 3
    result = cv.run(data, groups=groups)
    assert len(result.folds) == 3
    for train_idx, val_idx in cv.folds(data, groups):
        assert not set(groups[train_idx]) & set(groups[val_idx])


FITTED: list[np.ndarray] = []


class RecordingScaler(StandardScaler):  # type: ignore[misc]
    """scikit-learn's StandardScaler, recording the rows each fold fits it on."""

    def fit(self, X, y=None, sample_weight=None):  # type: ignore[no-untyped-def]
        FITTED.append(np.array(X))
        return super().fit(X, y, sample_weight)


def test_preprocessing_is_fitted_on_each_training_fold_only() -> None:
    data = TensorData(class_data().x * 1000 + 50, class_data().y)
    FITTED.clear()
    cv = KFoldCrossValidator(
        lambda: nn.Linear(3, 3),
        TrainConfig(max_epochs=2, patience=None),
        k=3,
        transform=RecordingScaler(),
    )
    result = cv.run(data)
    assert len(FITTED) == 3
    for fitted, (train_idx, _) in zip(FITTED, cv.folds(data), strict=True):
        assert np.allclose(fitted, data.x.numpy()[train_idx])
    assert all(np.isfinite(f.val_loss) for f in result.folds)
