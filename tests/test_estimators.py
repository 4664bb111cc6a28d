"""NetRegressor and NetClassifier through scikit-learn's own checks and its tools."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from nndl.errors import ConfigError, TrainingFailed
from nndl.estimators import NetClassifier, NetRegressor

FAST = {"max_epochs": 30, "random_state": 0}


# The one check declared: scikit-learn's array-API check needs the estimator to compute with
# the input's own namespace (CuPy, array-api-strict); nndl converts every input to numpy and
# then to torch instead, so it does not take that path.
DECLARED = {"check_array_api_input": "inputs are converted to numpy, then torch"}


@parametrize_with_checks(  # type: ignore[misc]
    [NetClassifier(**FAST), NetRegressor(**FAST)], expected_failed_checks=lambda e: DECLARED
)
def test_sklearn_estimator_checks(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"])[y]


def test_classifier_learns_iris_with_string_labels_and_keeps_its_best_epoch() -> None:
    X, y = iris()
    clf = NetClassifier(max_epochs=100, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1.0, atol=1e-5)
    losses = [r["val_loss"] for r in clf.history_]
    assert clf.best_epoch_ == 1 + int(np.argmin(losses))


def test_regressor_returns_the_targets_units_and_an_ensembles_spread() -> None:
    X, y = make_regression(n_samples=200, n_features=3, noise=5.0, random_state=0)
    y = y * 1000 + 5000  # far from standardized numbers
    reg = NetRegressor(max_epochs=150, n_members=3, random_state=0).fit(X, y)
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == (200,) and std.shape == (200,) and (std > 0).all()
    assert reg.score(X, y) > 0.9
    assert len(reg.nets_) == 3


@pytest.mark.parametrize(
    "convert",
    [
        lambda X, y: (X.tolist(), y.tolist()),
        lambda X, y: (torch.from_numpy(X), torch.from_numpy(y)),
        lambda X, y: (X.astype(np.float32), y.astype(np.int32)),
        lambda X, y: (X.astype(np.int64), y.astype(np.int8)),
    ],
    ids=["lists", "tensors", "float32-int32", "int64-int8"],
)
def test_arrays_of_any_kind_and_dtype(convert) -> None:  # type: ignore[no-untyped-def]
    X, y = load_iris(return_X_y=True)
    Xc, yc = convert(X * 10, y)
    clf = NetClassifier(max_epochs=40, random_state=0).fit(Xc, yc)
    assert clf.n_features_in_ == 4
    assert clf.score(X * 10, y) > 0.8


def test_dataframes_give_feature_names_and_a_wrong_column_order_is_named() -> None:
    pd = pytest.importorskip("pandas")
    data = load_iris(as_frame=True)
    clf = NetClassifier(max_epochs=20, random_state=0).fit(data.data, data.target)
    assert list(clf.feature_names_in_) == list(data.data.columns)
    with pytest.raises(ValueError, match="same order"):
        clf.predict(data.data[list(reversed(data.data.columns))])
    with pytest.raises(ValueError, match="petal size"):
        clf.predict(data.data.rename(columns={"petal width (cm)": "petal size"}))
    assert isinstance(clf.predict(pd.DataFrame(data.data)), np.ndarray)


def test_images_train_a_cnn_from_n_h_w_arrays() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((120, 12, 12)).astype(np.float32)
    labels = (images[:, :6].mean((1, 2)) > images[:, 6:].mean((1, 2))).astype(int)
    clf = NetClassifier(
        "cnn",
        arch_options={
            "channels": (4, 8),
            "kernel_sizes": (3, 3),
            "strides": (2, 2),
            "paddings": (1, 1),
            "linear_sizes": (16,),
        },
        max_epochs=30,
        random_state=0,
    ).fit(images, labels)
    assert clf.net_config_.in_channels == 1 and clf.net_config_.input_size == 12
    assert clf.predict(images).shape == (120,)


def test_same_random_state_same_numbers_another_other_numbers() -> None:
    X, y = iris()
    p0 = NetClassifier(max_epochs=5, random_state=0).fit(X, y).predict_proba(X)
    p0_again = NetClassifier(max_epochs=5, random_state=0).fit(X, y).predict_proba(X)
    p1 = NetClassifier(max_epochs=5, random_state=1).fit(X, y).predict_proba(X)
    assert np.array_equal(p0, p0_again)
    assert not np.allclose(p0, p1)


def test_fit_leaves_the_global_generators_as_they_were() -> None:
    X, y = iris()
    expected = []
    for fit in (False, True):
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        if fit:
            NetClassifier(max_epochs=3, random_state=7).fit(X, y)
            NetRegressor(max_epochs=3, n_members=2).fit(X, np.arange(150.0))
        expected.append((torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random()))
    assert expected[0] == expected[1]


def test_pipeline_cross_val_score_grid_search_and_clone() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NetClassifier(max_epochs=15, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.mean() > 0.9
    grid = GridSearchCV(
        NetClassifier(max_epochs=10, random_state=0),
        {"arch__hidden_sizes": [(8,), (32, 16)], "lr": [1e-3, 1e-2]},
        cv=3,
    ).fit(X, y)
    assert set(grid.best_params_) == {"arch__hidden_sizes", "lr"}
    assert grid.best_estimator_.net_config_.hidden_sizes == grid.best_params_["arch__hidden_sizes"]
    copy = clone(grid.best_estimator_)
    assert copy.get_params() == grid.best_estimator_.get_params() and not hasattr(copy, "nets_")


def test_pickled_estimator_predicts_the_same() -> None:
    X, y = iris()
    clf = NetClassifier(max_epochs=5, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_a_multistep_schedule_and_an_accuracy_monitor_reach_the_training() -> None:
    X, y = iris()
    clf = NetClassifier(
        lr=1e-2, lr_schedule="multistep", lr_milestones=[3, 5], max_epochs=8, patience=0
    ).fit(X, y)
    lrs = [round(r["lr"], 6) for r in clf.history_]
    assert lrs == [0.01] * 3 + [0.001] * 2 + [0.0001] * 3
    clf = NetClassifier(monitor="val_accuracy", max_epochs=40, random_state=0).fit(X, y)
    accuracies = [r["val_accuracy"] for r in clf.history_]
    assert clf.best_epoch_ == 1 + int(np.argmax(accuracies))
    with pytest.raises(ConfigError, match="monitor 'val_acc'"):
        NetClassifier(monitor="val_acc").fit(X, y)


def test_bad_parameters_are_one_error_naming_each() -> None:
    X, y = iris()
    with pytest.raises(ConfigError) as info:
        NetClassifier(lr=-1, batch_size=0, optimizer="nesterov").fit(X, y)
    for part in ("lr = -1", "batch_size = 0", "optimizer 'nesterov'"):
        assert part in str(info.value)
    with pytest.raises(ConfigError, match="unknown architecture 'mpl'"):
        NetClassifier("mpl").fit(X, y)
    with pytest.raises(ConfigError, match=r"unknown field.s. width"):
        NetClassifier(arch_options={"width": 3}).fit(X, y)


def test_saved_estimators_load_and_predict_on_raw_inputs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import nndl

    X, y = iris()
    clf = NetClassifier(max_epochs=5, random_state=0).fit(X * 100, y)
    clf.save(tmp_path / "clf.pt")
    loaded = nndl.load(tmp_path / "clf.pt")
    assert isinstance(loaded, NetClassifier) and list(loaded.classes_) == list(clf.classes_)
    assert np.array_equal(loaded.predict_proba(X * 100), clf.predict_proba(X * 100))
    Xr, yr = make_regression(n_samples=60, n_features=2, random_state=0)
    reg = NetRegressor(max_epochs=5, n_members=2, random_state=0).fit(Xr, yr * 50 + 7)
    reg.save(tmp_path / "reg.pt")
    again = nndl.load(tmp_path / "reg.pt")
    assert isinstance(again, NetRegressor) and len(again.nets_) == 2
    for got, want in zip(
        again.predict(Xr, return_std=True), reg.predict(Xr, return_std=True), strict=True
    ):
        assert np.allclose(got, want)


def test_a_net_of_fourier_features_keeps_its_frequencies_when_saved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import nndl

    X, y = make_regression(n_samples=60, n_features=2, random_state=0)
    reg = NetRegressor(
        arch_options={"fourier": 1.0}, max_epochs=5, n_members=2, random_state=0
    ).fit(X, y)
    assert reg.net_config_.fourier == 1.0
    reg.save(tmp_path / "reg.pt")
    again = nndl.load(tmp_path / "reg.pt")
    assert np.array_equal(again.predict(X), reg.predict(X))
    plain = NetRegressor(max_epochs=5, n_members=2, random_state=0).fit(X, y)
    assert not np.allclose(plain.predict(X), reg.predict(X))


def test_a_classifier_ensemble_averages_its_members_probabilities() -> None:
    X, y = iris()
    clf = NetClassifier(max_epochs=5, n_members=3, random_state=0).fit(X, y)
    assert len(clf.nets_) == 3 and clf.net_ is clf.nets_[0]
    single = [
        NetClassifier(max_epochs=5, random_state=seed).fit(X, y).predict_proba(X)
        for seed in (0, 1, 2)
    ]
    assert np.allclose(clf.predict_proba(X), np.mean(single, axis=0), atol=1e-6)


def test_a_loaded_cnn_refits_as_the_same_net_and_custom_training_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import nndl

    rng = np.random.default_rng(0)
    images = rng.random((40, 8, 8)).astype(np.float32)
    labels = (images.mean((1, 2)) > 0.5).astype(int)
    options = {
        "channels": (4,),
        "kernel_sizes": (3,),
        "strides": (2,),
        "paddings": (1,),
        "linear_sizes": (8,),
    }
    clf = NetClassifier(
        "cnn",
        arch_options=options,
        max_epochs=3,
        optimizer=torch.optim.AdamW,
        loss=lambda out, y: torch.nn.functional.cross_entropy(out, y),
        random_state=0,
    ).fit(images, labels)
    with pytest.warns(UserWarning) as caught:  # the function and the class are not kept
        clf.save(tmp_path / "cnn.pt")
    assert sorted(str(w.message).split(" = ")[0] for w in caught) == [
        "NetClassifier.save: loss",
        "NetClassifier.save: optimizer",
    ]
    loaded = nndl.load(tmp_path / "cnn.pt")
    assert np.array_equal(loaded.predict(images), clf.predict(images))
    again = clone(loaded).fit(images, labels)
    assert again.net_config_ == clf.net_config_
    with pytest.raises(
        ValueError, match=r"rows of shape \(8, 6\).*fitted on rows of shape \(8, 8\)"
    ):
        loaded.predict(images[:, :, :6])


def test_a_bare_training_checkpoint_does_not_load_as_an_estimator(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import nndl
    from nndl.errors import DataError
    from nndl.training import Checkpoint, Evolver, TrainConfig

    model = nndl.build_model(nndl.FCNConfig(4, (8,), "relu", (), 3))
    X, y = iris()
    data = nndl.TensorData(X, np.unique(y, return_inverse=True)[1])
    Evolver(model, TrainConfig(max_epochs=2), [Checkpoint(tmp_path / "best.pt")]).fit(data)
    with pytest.raises(DataError, match="holds no task, classes or scaling"):
        nndl.load(tmp_path / "best.pt")


def test_a_diverged_fit_warns_and_one_without_a_finite_epoch_is_an_error() -> None:
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_regression(n_samples=60, n_features=2, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged at epoch 4; the net holds epoch 1"):
        reg = NetRegressor(optimizer="sgd", lr=1.0, max_epochs=30, random_state=0).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()
    steep = NetRegressor(optimizer="sgd", lr=10.0, max_epochs=20, standardize=False)
    with pytest.raises(TrainingFailed, match="not finite at epoch 1, no finite weights kept"):
        steep.fit(X, y * 1e6)


def test_arch_fields_set_beside_arch_options_are_kept() -> None:
    both = {"arch_options": {"activation": "tanh"}, "arch__hidden_sizes": (8,)}
    for params in (both, dict(reversed(both.items()))):
        reg = NetRegressor().set_params(**params)
        assert reg.arch_options == {"activation": "tanh", "hidden_sizes": (8,)}
    X, y = make_regression(n_samples=60, n_features=2, random_state=0)
    grid = GridSearchCV(NetRegressor(max_epochs=2), {k: [v] for k, v in both.items()}, cv=2)
    assert grid.fit(X, y).best_estimator_.net_config_.hidden_sizes == (8,)


def test_save_keeps_tuples_and_names_what_it_cannot_keep(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import nndl

    X, y = make_regression(n_samples=60, n_features=2, random_state=0)
    reg = NetRegressor(
        max_epochs=2, lr_schedule="multistep", lr_milestones=(1, 2), loss=torch.nn.L1Loss()
    ).fit(X, y)
    with pytest.warns(UserWarning, match="NetRegressor.save: loss = L1Loss.. is not kept"):
        reg.save(tmp_path / "reg.pt")
    assert nndl.load(tmp_path / "reg.pt").lr_milestones == (1, 2)


def test_every_bad_parameter_is_named_in_one_error() -> None:
    X, y = iris()
    with pytest.raises(ConfigError) as info:
        NetClassifier(n_members=0, lr=-1.0, lr_schedule="linear").fit(X, y)
    for part in ("n_members = 0", "lr = -1.0", "lr_schedule 'linear'"):
        assert part in str(info.value)
    with pytest.raises(ConfigError, match="random_state = -1: must be None, an integer"):
        NetClassifier(random_state=-1).fit(X, y)
