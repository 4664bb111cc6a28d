"""The regression study of the report (section 2): basic net, random search, best net.

Each part writes its own files into the output folder and returns its Table 1 row;
:func:`run_all` runs the three and writes ``results.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from nndl._io import write_json
from nndl.data.tensors import TensorData
from nndl.experiments.budgets import REGRESSION, RegressionBudget
from nndl.experiments.regression_figures import basic_figure, best_figures
from nndl.experiments.regression_search import best_params, run_search
from nndl.experiments.study import Study, register_study
from nndl.search.spaces import Run

__all__ = ["RegressionStudy", "run_all", "run_basic", "run_best", "run_search"]


@register_study
@dataclass(frozen=True, kw_only=True)
class RegressionStudy(Study):
    """Where the data is, where results go, and how to run."""

    train_csv: str | None = None
    test_csv: str | None = None
    budget: RegressionBudget = field(default_factory=lambda: REGRESSION["default"])
    workers: int = 1
    storage: str | None = None
    trials: int | None = None
    max_trials: int | None = None
    batch_folds: bool = True
    inputs: tuple[str, ...] | None = None
    target: str | None = None
    space: str = ""  # empty: the budget's (fourier for the default budget, else report)
    standardize: bool | None = None
    refit_members: int = 5
    refit_configs: int | None = None  # None: the budget's
    finalists: int | None = None  # None: the budget's
    fold_nets: bool | None = None  # None: the budget's
    prune_fraction: float | None = None
    folds: str = "random"

    @cached_property
    def prune_at(self) -> dict[str, float]:
        """The search's prune threshold (validation MSE in the data's units) and what made it:
        the prune fraction (``prune_fraction``, else the budget's) of the labels' variance, at
        least 4 x their noise variance (a Gaussian process's estimate)."""
        from nndl.search.regression import label_noise, label_variance, prune_threshold

        fraction = (
            self.budget.prune_fraction if self.prune_fraction is None else self.prune_fraction
        )
        variance, noise = label_variance(self.task), label_noise(self.task, self.seed)
        # 4 digits: workers on other machines rebuild the same number for the study's settings
        threshold = float(f"{prune_threshold(variance, fraction, noise):.4g}")
        return {"threshold": threshold, "fraction": fraction, "variance": variance, "noise": noise}

    @cached_property
    def task(self) -> Any:
        """The regression task: the CSV files' columns, or the built-in 1-D data."""
        from nndl.tasks.regression import RegressionTask

        return RegressionTask(
            self.train_csv, self.test_csv, self.inputs, self.target, self.standardize
        )

    name = "regression"
    budgets = REGRESSION

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.space:  # the budget's search space unless the study names its own
            object.__setattr__(self, "space", self.budget.space)

    @cached_property
    def search_space(self) -> Any:
        """The search space ``space`` names (a built-in name or ``FILE.py:Class``), prepared
        for the training rows as the nets see them (the same copy for every worker)."""
        from nndl.search.spaces import get_space

        data = self.task.points()[0]
        return get_space(self.space, "regression").prepared(data.x, data.y, seed=self.seed)

    def check(self) -> None:
        from nndl.search.spaces import get_space

        self.task.check()
        get_space(self.space, "regression")

    @property
    def answer_configs(self) -> int:
        """How many of the search's best configurations the answer refits."""
        return self.refit_configs or self.budget.refit_configs

    @property
    def answer_finalists(self) -> int:
        """How many of the search's best configurations are ranked again (0: none)."""
        return self.budget.finalists if self.finalists is None else self.finalists

    @property
    def answer_fold_nets(self) -> bool:
        """Whether the report's protocol's fold nets join the refit nets in the answer."""
        return self.budget.fold_nets if self.fold_nets is None else self.fold_nets

    def fold_options(self) -> dict[str, Any]:
        """How the search and the best net cut and train their folds (the report's k = 5)."""
        keys = ("seed", "device", "batch_folds", "folds")
        return {"k": 5, **{k: getattr(self, k) for k in keys}}

    def run(self, timings: dict[str, float]) -> dict[str, Any]:
        return run_all(self, timings=timings)

    @staticmethod
    def report_section(doc: Any, results: dict[str, Any], budget: str) -> None:
        from nndl.report.sections import regression_section

        regression_section(doc, results, budget)


BASIC_TRAIN: dict[str, Any] = dict(
    loss="mse", lr=1e-3, batch_size=10, patience=None, val_fraction=0.1
)  # the report's section 2.1


def run_basic(study: RegressionStudy) -> dict[str, Any]:
    """Report 2.1: 2x128 Sigmoid, Adam lr 1e-3, batch 10, MSE, 10% validation, no early stop."""
    from nndl.experiments.train import check_converged
    from nndl.models.nets import build_model
    from nndl.models.registry import create_config
    from nndl.training.checkpoint import save_checkpoint
    from nndl.training.config import TrainConfig
    from nndl.training.evolver import Evolver

    task = study.task
    data = task.load(0.1, study.seed)
    epochs = study.budget.basic_epochs
    config = TrainConfig(**BASIC_TRAIN, max_epochs=epochs, seed=study.seed, device=study.device)
    torch.manual_seed(study.seed)
    net = build_model(create_config("reg-basic").for_task(*task.shapes()))
    evolver = Evolver(net, config, _progress(study))
    history = evolver.fit(data.train, data.val)
    check_converged(history)
    history = history.scaled(task.loss_scale)  # the data's units from here on
    last = history.best_row()
    row = {
        "train_loss": last["train_loss"],
        "val_loss": last["val_loss"],
        "test_loss": evolver.evaluate(data.test)["loss"] * task.loss_scale,
        "epochs": history.epochs,
    }
    extra = {**study.task.checkpoint_extra(), "arch": "reg-basic"}
    save_checkpoint(study.out / "basic" / "model.pt", evolver.model, config, extra=extra)
    basic_figure(study, evolver.model, history)
    write_json(study.out / "basic" / "metrics.json", row)
    return row


def _progress(study: RegressionStudy) -> list[Any]:
    from nndl.training.callbacks import ProgressBar

    return [] if study.quiet else [ProgressBar()]


def run_best(study: RegressionStudy, params: Run) -> dict[str, Any]:
    """Report 2.3, the report's protocol: 5 folds with ``params``, keep the best fold net; then
    nndl's answer (the refit ensemble, joined by these fold nets with ``fold_nets``) and the
    Gaussian-process reference (their rows under ``refit`` and ``gp``); Figures 2 and 3."""
    from nndl.experiments.regression_answer import run_gp, run_refit
    from nndl.search.regression import cross_validate
    from nndl.training.checkpoint import save_checkpoint

    data, test = study.task.points()
    result = cross_validate(params, data, study.budget.max_epochs, **study.fold_options())
    folds = sorted(result.folds, key=lambda f: f.fold)
    best, units = result.best(), study.task.loss_scale
    row = {
        "train_loss": best.train_loss * units,
        "val_loss": best.val_loss * units,
        "test_loss": _mse(best.model, test) * units,
        "ensemble_test_loss": _ensemble_mse([f.model.cpu() for f in folds], test) * units,
        "best_fold": best.fold,
        "fold_val_losses": [f.val_loss * units for f in folds],
        "params": params.to_dict(),
    }
    extra = {**study.task.checkpoint_extra(), "params": params.to_dict()}
    save_checkpoint(study.out / "best" / "model.pt", best.model, None, extra=extra)
    write_json(study.out / "best" / "metrics.json", row)
    refit_row, ensemble = run_refit(study, params, folds)
    gp_row, gp = run_gp(study)
    best_figures(study, best, ensemble, gp=gp, refit=refit_row)
    return {**row, "refit": refit_row, "gp": gp_row}


@torch.inference_mode()
def _mse(model: torch.nn.Module, data: TensorData) -> float:
    model.eval()
    return float(torch.mean((model(data.x) - data.y) ** 2))


@torch.inference_mode()
def _ensemble_mse(models: list[torch.nn.Module], data: TensorData) -> float:
    for m in models:
        m.eval()
    mean = torch.stack([m(data.x) for m in models]).mean(0)
    return float(torch.mean((mean - data.y) ** 2))


SEARCH_KEYS: tuple[str, ...] = ("completed", "pruned", "failed", "seconds", "trials_before")
SEARCH_KEYS += ("trial_seconds", "best_value")  # the search summary's keys results.json keeps


def run_all(
    study: RegressionStudy, params_file: str | None = None, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """Basic, search, best; writes ``results.json`` and returns it (stage seconds into ``timings``)."""
    from nndl._timing import timed

    with timed(timings, "regression basic"):
        basic = run_basic(study)
    with timed(timings, "regression search"):
        search = run_search(study)
    with timed(timings, "regression best"):
        best = run_best(study, best_params(study, params_file))
    info = study.task.info()
    losses = ("train_loss", "val_loss", "test_loss")
    results = {
        "basic": {k: basic[k] for k in losses},
        "best": {k: best[k] for k in (*losses, "ensemble_test_loss", "params")},
        "refit": best["refit"],
        "gp": best["gp"],
        "search": {k: search.get(k) for k in SEARCH_KEYS},
        "space": study.space,
        "data": info,
    }
    write_json(study.out / "results.json", results)
    return results
