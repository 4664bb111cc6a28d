"""NetSearchCV: a hyperparameter search over an Optuna study, as a scikit-learn meta-estimator.

The folds are cut once and each fold's running mean score goes to the pruner, so a pruned
trial stops between folds on the same split as every other trial (optuna-integration's
``OptunaSearchCV`` re-splits at every pruning step: its issue #317)."""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np
import optuna
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from nndl.data.scaling import Scaling
from nndl.errors import ConfigError, SearchFailed
from nndl.estimators._base import from_tensor
from nndl.estimators._trials import Objective, cv_results
from nndl.search.spaces import SearchSpace, distribution_of, suggest

__all__ = ["NetSearchCV"]


class NetSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Search ``estimator``'s parameters over ``space`` with cross-validation and pruning.

    Args:
        estimator: a :class:`NetClassifier`, :class:`NetRegressor` or any scikit-learn
            estimator.
        space: a dict of parameter name to an Optuna distribution
            (``optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)``) or to a list
            of choices (``[(64,), (64, 32)]``); names as ``set_params`` takes them
            (``"lr"``, ``"arch__hidden_sizes"``). Or a :class:`nndl.search.SearchSpace`,
            whose ``suggest(trial)`` gives the net's config and training settings (the space
            ``prepared`` for ``X`` and ``y`` as the estimator's net sees them).
        n_trials: trials to run (``timeout`` may end the search sooner).
        cv: folds: an int (stratified for classifiers, as scikit-learn's), or any splitter
            with scikit-learn's ``split(X, y, groups)``.
        scoring: scikit-learn's scoring (None: the estimator's ``score``); higher is better.
        sampler: Optuna's sampler; default ``TPESampler(seed=random_state)``.
        pruner: Optuna's pruner over the running mean of the fold scores; default
            ``MedianPruner(n_startup_trials=5)``; ``NopPruner()`` runs every fold.
        storage: an Optuna storage URL to keep the study (``study_name``); None: in memory.
        refit: train ``best_estimator_`` on every row with the best parameters.
        timeout: seconds after which no new trial starts.
        random_state: seeds the sampler and, where unset, the estimator's ``random_state``.
        verbose: 0 prints nothing (Optuna's per-trial log lines are off during ``fit``);
            1 shows Optuna's progress bar and its log lines.

    Attributes:
        best_params_: the best trial's (``best_score_``: its mean, ``best_index_``: its row).
        best_estimator_: the estimator refit on every row with ``best_params_``.
        cv_results_: every trial in scikit-learn's format, ``state`` COMPLETE or PRUNED.
        study_: the ``optuna.Study`` (``n_splits_``: the number of folds).
    """

    def __init__(
        self,
        estimator: Any,
        space: Any,
        *,
        n_trials: int = 20,
        cv: Any = 5,
        scoring: Any = None,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        refit: bool = True,
        timeout: float | None = None,
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.refit = refit
        self.timeout = timeout
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None, groups: Any = None) -> NetSearchCV:
        """Run the search on ``X`` and ``y``; returns ``self``."""
        self._check_params()
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))  # cut once: every trial sees the same folds
        self.n_splits_ = len(splits)
        self._searched = self._prepared_space(X, y)
        objective, level = Objective(self, (X, y), splits), optuna.logging.get_verbosity()
        if not self.verbose:  # as scikit-learn's searches, silent; the user's level comes back
            optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
        try:
            self.study_ = self._study()
            self.study_.optimize(
                objective, int(self.n_trials), self.timeout, show_progress_bar=bool(self.verbose)
            )
        finally:
            optuna.logging.set_verbosity(level)
        self._collect(objective)
        if self.refit:
            self.best_estimator_ = self._candidate(self._best_trial).fit(X, y)
        return self

    # --- the study -------------------------------------------------------------------------

    def _check_params(self) -> None:
        problems = []
        trials = self.n_trials
        if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1:
            problems.append(f"n_trials = {self.n_trials!r}: must be an integer >= 1")
        if isinstance(self.scoring, (list, tuple, set, dict)):
            problems.append(f"scoring = {self.scoring!r}: one metric (a name or a callable)")
        if not isinstance(self.refit, bool):
            problems.append(f"refit = {self.refit!r}: must be True or False")
        if not (isinstance(self.space, dict) and self.space) and not hasattr(self.space, "suggest"):
            problems.append(
                f"space = {self.space!r}: must be a non-empty dict of parameter -> Optuna "
                "distribution or list of choices, or a SearchSpace"
            )
        if isinstance(self.space, dict):
            problems += [
                f"space: {type(self.estimator).__name__} has no parameter {k!r}"
                for k in self.space
                if not _settable(self.estimator, k)
            ]
        if problems:
            raise ConfigError("NetSearchCV", problems)

    def _prepared_space(self, X: Any, y: Any) -> Any:
        """A SearchSpace prepared for the rows as the net sees them (standardized where the
        estimator standardizes); a dict, or a space that takes nothing from the data, as is."""
        prepare = getattr(type(self.space), "prepared", SearchSpace.prepared)
        if isinstance(self.space, dict) or prepare is SearchSpace.prepared:
            return self.space  # no copy of X
        x = np.asarray(from_tensor(X))
        if self.estimator.get_params().get("standardize", False) and x.dtype.kind in "fiu":
            x = Scaling.fit_channels(x).channels(x)
        return self.space.prepared(x, from_tensor(y), seed=self.random_state or 0)

    def _study(self) -> optuna.Study:
        sampler = self.sampler or optuna.samplers.TPESampler(seed=self.random_state)
        pruner = self.pruner or optuna.pruners.MedianPruner(n_startup_trials=5)
        return optuna.create_study(
            storage=self.storage,
            study_name=self.study_name,
            direction="maximize",
            sampler=sampler,
            pruner=pruner,
            load_if_exists=self.storage is not None,
        )

    def _params(self, trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        """The estimator's parameters for ``trial`` (sampled, or read back from a finished one)."""
        if not isinstance(self.space, dict):
            fresh = isinstance(trial, optuna.Trial)
            run = self._searched.suggest(trial) if fresh else self.space.run(trial.params)
            return {"arch": run.model, **run.train}
        params = {}
        for name, choice in self.space.items():
            distribution, decode = distribution_of(choice)
            if isinstance(trial, optuna.Trial):
                params[name] = decode(suggest(trial, name, distribution))
            else:
                params[name] = decode(trial.params[name])
        return params

    def _candidate(self, trial: optuna.trial.BaseTrial) -> Any:
        estimator = clone(self.estimator)
        params = self._params(trial)
        own = estimator.get_params()
        if self.random_state is not None and own.get("random_state", 0) is None:
            params.setdefault("random_state", self.random_state)
        return estimator.set_params(**params)

    # --- results ---------------------------------------------------------------------------

    def _collect(self, objective: Objective) -> None:
        trials = [
            t
            for t in self.study_.trials
            if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
            and t.number in objective.records
        ]
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            raise SearchFailed(
                f"NetSearchCV: none of {len(trials)} trials completed every fold; run more "
                "trials or a gentler pruner"
            )
        self._best_trial = max(complete, key=lambda t: float(t.values[0]))
        self.best_index_ = trials.index(self._best_trial)
        self.best_score_ = float(self._best_trial.values[0])
        params = [
            self._params(t) if isinstance(self.space, dict) else dict(t.params) for t in trials
        ]
        self.best_params_ = params[self.best_index_]
        self.cv_results_ = cv_results(trials, params, objective.records, n_splits=self.n_splits_)

    # --- the refit estimator's methods -----------------------------------------------------

    @available_if(lambda self: _refit_has(self, "predict"))
    def predict(self, X: Any) -> Any:
        return self._refitted().predict(X)

    @available_if(lambda self: _refit_has(self, "predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        return self._refitted().predict_proba(X)

    @available_if(lambda self: _refit_has(self, "score"))
    def score(self, X: Any, y: Any = None) -> float:
        scorer = check_scoring(self._refitted(), scoring=self.scoring)
        return float(scorer(self.best_estimator_, X, y))

    @property
    def classes_(self) -> Any:
        _refit_has(self, "classes_")
        return self._refitted().classes_

    @property
    def n_features_in_(self) -> int:
        return int(self._refitted().n_features_in_)

    @property
    def feature_names_in_(self) -> Any:
        return self._refitted().feature_names_in_

    def _refitted(self) -> Any:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_


def _refit_has(search: NetSearchCV, name: str) -> bool:
    """The search's ``name`` (a method or ``classes_``) is its refit estimator's: an
    AttributeError where the estimator has none, or where ``refit=False`` left none."""
    if not search.refit:
        raise AttributeError(
            f"NetSearchCV(refit=False) has no {name}: it is the refit best estimator's; train "
            "one with set_params(**search.best_params_)"
        )
    getattr(getattr(search, "best_estimator_", search.estimator), name)
    return True


def _settable(estimator: Any, name: str) -> bool:
    """``set_params`` takes ``name``: one of ``get_params(deep=True)``, or ``arch__FIELD`` of
    an nndl net (the estimator itself or a step of its pipeline: ``step__arch__FIELD``) whose
    architecture's config has that field."""
    from nndl.estimators._base import NetEstimator
    from nndl.models.registry import config_for

    params = estimator.get_params(deep=True)
    if name in params:
        return True
    owner, found, field = name.rpartition("arch__")
    target = estimator if not owner else params.get(owner.removesuffix("__"))
    if not found or not isinstance(target, NetEstimator):
        return False
    try:
        config = config_for(target.arch)
    except ConfigError:  # a bad arch: fit names it
        return True
    return field in {f.name for f in dataclasses.fields(config) if f.init}
