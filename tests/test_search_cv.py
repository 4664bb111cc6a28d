"""NetSearchCV: a search from Python in one call, over an Optuna study."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import StratifiedKFold

from nndl import FCNConfig, NetClassifier, NetRegressor, NetSearchCV
from nndl.errors import ConfigError, SearchFailed
from nndl.search.spaces import Run, SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)


class CountingFolds(StratifiedKFold):  # type: ignore[misc]
    """scikit-learn's splitter, counting how often the folds are cut."""

    calls = 0

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        type(self).calls += 1
        return super().split(X, y, groups)


class PruneAllButFirst(optuna.pruners.BasePruner):
    """Prune every trial after the first, after its first fold."""

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return trial.number > 0


def test_search_on_a_table_gives_sklearns_results_and_a_refit_best_estimator() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    space = {
        "lr": FloatDistribution(1e-4, 3e-2, log=True),
        "arch__hidden_sizes": [(8,), (32, 16)],
    }
    search = NetSearchCV(NetClassifier(max_epochs=15), space, n_trials=4, cv=3, random_state=0).fit(
        X, y
    )
    results = search.cv_results_
    assert set(search.best_params_) == {"lr", "arch__hidden_sizes"}
    assert results["rank_test_score"][search.best_index_] == 1
    assert results["params"][search.best_index_] == search.best_params_
    assert search.best_score_ == pytest.approx(results["mean_test_score"][search.best_index_])
    for key in ("mean_fit_time", "std_score_time", "split2_test_score", "param_lr", "state"):
        assert len(results[key]) == 4
    assert (
        search.best_estimator_.net_config_.hidden_sizes == search.best_params_["arch__hidden_sizes"]
    )
    assert search.score(X, y) > 0.9 and search.predict(X).shape == (len(y),)
    assert search.study_.best_trial.number == search.best_index_


def test_folds_are_cut_once_and_a_pruned_trial_stops_between_folds() -> None:
    X, y = load_wine(return_X_y=True)
    CountingFolds.calls = 0
    search = NetSearchCV(
        NetClassifier(max_epochs=5, random_state=0),
        {"lr": FloatDistribution(1e-3, 1e-2)},
        n_trials=3,
        cv=CountingFolds(3, shuffle=True, random_state=0),
        pruner=PruneAllButFirst(),
    ).fit(X, y)
    assert CountingFolds.calls == 1
    states = list(search.cv_results_["state"])
    assert states == ["COMPLETE", "PRUNED", "PRUNED"]
    pruned = search.cv_results_["split1_test_score"][1:]
    assert np.isnan(pruned).all() and not np.isnan(search.cv_results_["split0_test_score"]).any()
    assert list(search.cv_results_["rank_test_score"]) == [1, 2, 3]


def test_a_search_whose_every_trial_is_pruned_says_so() -> None:
    X, y = load_wine(return_X_y=True)

    class PruneAll(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            return True

    with pytest.raises(SearchFailed, match="none of 2 trials completed"):
        NetSearchCV(
            NetClassifier(max_epochs=2),
            {"lr": FloatDistribution(1e-3, 1e-2)},
            n_trials=2,
            cv=2,
            pruner=PruneAll(),
        ).fit(X, y)


def test_in_memory_unless_a_storage_is_named_and_then_resumed(tmp_path: Path) -> None:
    X, y = load_wine(return_X_y=True)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        make = lambda **kw: NetSearchCV(  # noqa: E731
            NetClassifier(max_epochs=3, random_state=0),
            {"batch_size": IntDistribution(8, 64, log=True)},
            n_trials=2,
            cv=2,
            **kw,
        )
        make().fit(X, y)
        assert list(tmp_path.iterdir()) == []
        url = f"sqlite:///{tmp_path / 'search.db'}"
        make(storage=url, study_name="wine").fit(X, y)
        resumed = make(storage=url, study_name="wine").fit(X, y)
    finally:
        os.chdir(here)
    assert len(resumed.study_.trials) == 4 and (tmp_path / "search.db").is_file()


class TabularWidth(SearchSpace):
    """A user's space: one hidden layer's width and the learning rate."""

    columns = ("width", "lr", "lr_schedule")

    def suggest(self, trial: optuna.Trial) -> Run:
        return self.run(
            {
                "width": trial.suggest_int("width", 4, 64, log=True),
                "lr": trial.suggest_float("lr", 1e-3, 3e-2, log=True),
                "lr_schedule": trial.suggest_categorical("lr_schedule", ["constant", "cosine"]),
            }
        )

    def run(self, params: dict[str, Any]) -> Run:
        train = {"lr": params["lr"], "lr_schedule": params["lr_schedule"], "lr_step": 5}
        return Run(FCNConfig(1, (params["width"],), "relu"), train, params)


def test_a_search_space_object_chooses_the_net_and_its_settings() -> None:
    X, y = load_wine(return_X_y=True)
    search = NetSearchCV(
        NetClassifier(max_epochs=10, random_state=0), TabularWidth(), n_trials=3, cv=2
    ).fit(X, y)
    assert set(search.best_params_) == {"width", "lr", "lr_schedule"}
    assert search.best_estimator_.lr_schedule == search.best_params_["lr_schedule"]
    assert search.best_estimator_.net_config_.hidden_sizes == (search.best_params_["width"],)
    assert search.best_estimator_.net_config_.input_size == 13


def test_a_regressor_is_searched_with_plain_k_folds() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (80, 1))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=80)
    search = NetSearchCV(
        NetRegressor(max_epochs=20, random_state=0),
        {"arch__activation": ["tanh", "relu"]},
        n_trials=2,
        cv=3,
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    assert search.best_score_ < 0 and search.best_params_["arch__activation"] in ("tanh", "relu")


def test_a_space_that_takes_its_choices_from_the_data_is_prepared_as_the_net_sees_it() -> None:
    from nndl.search.spaces import get_space

    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (80, 1))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=80)
    space = get_space("fourier", "regression")
    scales = set()
    for x_units in (1.0, 1000.0):  # the net sees standardized inputs: one scale for both
        net = NetRegressor(max_epochs=5, random_state=0)
        search = NetSearchCV(net, space, n_trials=2, cv=2, random_state=0).fit(X * x_units, y)
        scales.add(search.best_params_["fourier"])
        assert search.best_estimator_.net_config_.fourier == search.best_params_["fourier"]
    expected = space.prepared((X - X.mean()) / X.std(), y).fourier
    assert len(scales) == 1 and scales <= set(expected)
    assert space.fourier == ()  # the given space is left as it was
    with pytest.raises(ConfigError, match=r"space 'fourier'.*one target number per row"):
        NetSearchCV(NetRegressor(), space, n_trials=1, cv=2).fit(X, np.c_[y, y])


def test_bad_search_settings_are_one_error() -> None:
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ConfigError) as info:
        NetSearchCV(NetClassifier(), {"learning_rate": [0.1]}, n_trials=0).fit(X, y)
    assert "n_trials = 0" in str(info.value) and "no parameter 'learning_rate'" in str(info.value)
    with pytest.raises(ConfigError) as info:
        NetSearchCV(
            NetClassifier(),
            {"arch__hiden_sizes": [(4,)]},
            scoring=["accuracy", "f1_macro"],
            refit="accuracy",
        ).fit(X, y)
    for part in ("no parameter 'arch__hiden_sizes'", "scoring = ['accuracy'", "refit = 'accu"):
        assert part in str(info.value)


def test_the_search_has_its_refit_estimators_methods_and_only_those() -> None:
    X, y = load_wine(return_X_y=True)
    net = NetRegressor(max_epochs=2, random_state=0)
    search = NetSearchCV(net, {"lr": [1e-3, 1e-2]}, n_trials=np.int64(2), cv=2)
    assert hasattr(search, "predict") and not hasattr(search, "predict_proba")
    search.fit(X, y)
    assert search.n_features_in_ == 13 and not hasattr(search, "classes_")
    assert len(search.study_.trials) == 2
    kept = NetSearchCV(net, {"lr": [1e-3, 1e-2]}, n_trials=2, cv=2, refit=False).fit(X, y)
    with pytest.raises(AttributeError) as info:
        kept.predict(X)
    assert "refit=False" in str(info.value.__cause__)


def test_a_pipelines_net_is_searched_by_its_step_name() -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NetClassifier(max_epochs=5, random_state=0))
    space = {"netclassifier__arch__hidden_sizes": [(8,), (16, 8)]}
    search = NetSearchCV(pipe, space, n_trials=2, cv=2).fit(X, y)
    hidden = search.best_params_["netclassifier__arch__hidden_sizes"]
    assert search.best_estimator_[-1].net_config_.hidden_sizes == hidden
    with pytest.raises(ConfigError, match="no parameter 'standardscaler__arch__x'"):
        NetSearchCV(pipe, {"standardscaler__arch__x": [1]}, n_trials=1).fit(X, y)


QUIET_SEARCH = """
import optuna
from sklearn.datasets import load_wine
from nndl import NetClassifier, NetSearchCV
X, y = load_wine(return_X_y=True)
net = NetClassifier(max_epochs=2, random_state=0)
NetSearchCV(net, {"lr": [1e-3, 1e-2]}, n_trials=2, cv=2, verbose=VERBOSE).fit(X, y)
print(optuna.logging.get_verbosity() == optuna.logging.INFO)
"""


@pytest.mark.parametrize("verbose", [0, 1])
def test_a_quiet_search_prints_nothing_and_keeps_the_users_optuna_log_level(verbose: int) -> None:
    code = QUIET_SEARCH.replace("VERBOSE", str(verbose))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True"  # Optuna's default level, as it was
    said = done.stdout + done.stderr
    assert ("Trial 1 finished" in said) == bool(verbose)
    assert verbose or said == "True\n"
