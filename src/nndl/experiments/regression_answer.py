"""The regression study's answer after the report's protocol: the chosen configurations refit on
every training point as an ensemble of seeds (with the default budget, joined by the protocol's
fold nets), and a Gaussian process as the classical reference.

The report keeps the best of the 5 fold nets, each trained on 80% of the points and picked by
its ~20 validation points; single nets of one configuration vary widely on 100 points, so that
pick is close to chance. The refit trains each configuration on all points for the median of
its folds' restored best epochs, as ``members`` seeds at once; the answer predicts the mean of
all its nets (their spread is the band of Figure 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from nndl._io import write_json
from nndl.search.spaces import Run
from nndl.training.kfold import FoldResult

if TYPE_CHECKING:
    from nndl.experiments.regression import RegressionStudy

__all__ = ["run_gp", "run_refit", "scaled"]


def scaled(study: RegressionStudy, models: list[torch.nn.Module]) -> Any:
    """``models`` as one :class:`~nndl.models.scaled.ScaledRegressor` in the data's units."""
    from nndl.models.scaled import ScaledRegressor

    return ScaledRegressor([m.cpu() for m in models], study.task.scaling)


def run_refit(
    study: RegressionStudy, params: Run, folds: list[FoldResult]
) -> tuple[dict[str, Any], Any]:
    """Retrain ``params`` on every training point for the folds' median best epoch, and the
    search's next best configurations (the budget's ``refit_configs`` in all) for theirs, each
    as ``study.refit_members`` seeds; with ``study.answer_finalists``, the configurations of
    their second ranking instead (``second_ranking``). With ``study.answer_fold_nets`` the
    ``folds``' nets (the report's protocol's, trained anyway) join them. Writes
    ``refit/ensemble.pt`` and ``refit/metrics.json``."""
    from nndl.training.checkpoint import save_regressor

    configs, fold_epochs = _answer_configs(study, params, folds)
    params, epochs = configs[0]
    refits = _refit_all(study, configs)
    fold_nets = [f.model for f in folds] if study.answer_fold_nets else []
    ensemble = scaled(study, [*refits, *fold_nets])
    row = {
        **_losses(study, ensemble, refits),
        "members": study.refit_members,
        "epochs": epochs,
        "fold_best_epochs": fold_epochs,
        "params": params.to_dict(),
        "configs": len(configs),
        "finalists": study.answer_finalists,
        "runner_ups": [{"params": run.to_dict(), "epochs": e} for run, e in configs[1:]],
        "fold_nets": len(fold_nets),
    }
    extra = {**study.task.checkpoint_extra(), "params": params.to_dict(), "epochs": epochs}
    extra.update(members=study.refit_members, fold_nets=len(fold_nets))
    save_regressor(study.out / "refit" / "ensemble.pt", ensemble, None, extra=extra)
    write_json(study.out / "refit" / "metrics.json", row)
    return row, ensemble


def _losses(study: RegressionStudy, ensemble: Any, refits: list[Any]) -> dict[str, float]:
    """The answer's train and test MSE and mean spread on the test points, and the test MSE of
    its refit nets alone (the data's units)."""
    train, test = study.task.points(data_units=True)
    mean, std = ensemble.predict(test.x.numpy(), return_std=True)
    return {
        "train_loss": _mse(ensemble.predict(train.x.numpy()), train),
        "test_loss": _mse(mean, test),
        "test_std": float(std.mean()),
        "refits_test_loss": _mse(scaled(study, refits).predict(test.x.numpy()), test),
    }


def _answer_configs(
    study: RegressionStudy, params: Run, folds: list[FoldResult]
) -> tuple[list[tuple[Run, int]], list[int]]:
    """The answer's configurations, each with its epochs (the median of its folds' restored
    best epochs), and the first one's folds' epochs: the best of the finalists' second ranking,
    else ``params`` (its ``folds``) and the search's next best."""
    from nndl.experiments.regression_search import runner_ups, second_ranking
    from nndl.search.regression import fold_epochs, median_epoch

    ranked = second_ranking(study, params)[: study.answer_configs] if study.answer_finalists else []
    if ranked:
        return [(run, median_epoch(e)) for _, run, e in ranked], ranked[0][2]
    epochs = fold_epochs(folds)
    ups = runner_ups(study, params, study.answer_configs - 1)
    return [(params, median_epoch(epochs)), *ups], epochs


def _refit_all(study: RegressionStudy, configs: list[tuple[Run, int]]) -> list[Any]:
    """Every configuration retrained on all points for its epochs, as the folds train."""
    from nndl.search.regression import refit

    data, _ = study.task.points()
    keep = ("seed", "device", "batch_folds")
    options = {k: v for k, v in study.fold_options().items() if k in keep}
    members = [refit(run, data, e, members=study.refit_members, **options) for run, e in configs]
    return [net for group in members for net in group]


def _mse(predicted: np.ndarray, data: Any) -> float:
    return float(np.mean((predicted - data.y.numpy().reshape(-1).astype(np.float64)) ** 2))


def run_gp(study: RegressionStudy) -> tuple[dict[str, Any], Any]:
    """The Gaussian-process reference on the same training points; ``gp/metrics.json``, and a
    function from raw inputs to its mean prediction (None when skipped)."""
    from nndl.evaluation.gp import gp_reference

    task = study.task
    train, test = task.points()
    pairs = [(d.x.numpy(), d.y.numpy()) for d in (train, test)]
    row, gp = gp_reference(pairs[0], pairs[1], task.loss_scale, seed=study.seed)
    write_json(study.out / "gp" / "metrics.json", row)
    if gp is None:
        return row, None
    s = task.scaling

    def predict(x: np.ndarray) -> np.ndarray:
        z = np.asarray(x, np.float64).reshape(len(x), -1)
        return gp.predict(z) if s is None else s.to_data(gp.predict(s.inputs(z)))

    return row, predict
