"""The regression study's figures: Figure 1 (the basic net), Figure 2 (the best fold net's
losses and the answer's fit with its band, against the Gaussian process) and Figure 3 (the best
fold net's weights and activations)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nndl.data.tensors import TensorData
from nndl.experiments.regression_answer import scaled

if TYPE_CHECKING:
    from nndl.experiments.regression import RegressionStudy

__all__ = ["basic_figure", "best_figures"]


def basic_figure(study: RegressionStudy, model: Any, history: Any) -> None:
    """Figure 1: the basic net's losses (``history`` in the data's units) and its fit."""
    fit = _fit([scaled(study, [model])], _raw_split(study))
    _save_run_figure(study, "figure_1_basic.png", "basic net", history=history, fit=fit)


def best_figures(
    study: RegressionStudy, best: Any, ensemble: Any, *, gp: Any, refit: dict[str, Any]
) -> None:
    """Figure 2 (the best fold net's losses; the answer's fit and band, the best fold net and
    the Gaussian process) and, for 1-D data, Figure 3 (the best fold net inside); ``refit``:
    the answer's row, which says what its nets are."""
    from nndl.report.sections import answer_nets
    from nndl.viz._mpl import save_figure
    from nndl.viz.regression import plot_weights_activations, weights_and_activations

    train, test = study.task.points(data_units=True)
    fold_net = scaled(study, [best.model])
    refs = {f"best fold net (fold {best.fold}, the report's protocol)": fold_net.predict}
    if gp is not None:
        refs["Gaussian process"] = gp
    members = [scaled(study, [m]) for m in ensemble.members]
    fit = _fit(
        members, {"train": train, "test": test}, None, references=refs, nets="nets of the answer"
    )
    if not hasattr(fit, "grid"):  # several inputs: the ensemble's predictions against the truth
        fit = _fit([ensemble], {"train": train, "test": test})
    history, answer = best.history.scaled(study.task.loss_scale), answer_nets(refit)
    title, name = f"best fold net (fold {best.fold})", "figure_2_best.png"
    _save_run_figure(
        study, name, title, history=history, fit=fit, fit_title=f"the answer: {answer}"
    )
    if train.x.shape[1] == 1:  # its probes are inputs of the 1-D function
        save_figure(
            plot_weights_activations(weights_and_activations(fold_net)),
            study.figures / "figure_3_weights_activations.png",
        )


def _save_run_figure(
    study: RegressionStudy, name: str, title: str, *, history: Any, fit: Any, fit_title: str = ""
) -> None:
    from nndl.viz._mpl import save_figure
    from nndl.viz.curves import loss_curves
    from nndl.viz.regression import plot_run

    curves = loss_curves(history.rows, history.best_epoch)
    save_figure(plot_run(curves, fit, title, fit_title=fit_title or None), study.figures / name)


def _raw_split(study: RegressionStudy) -> dict[str, TensorData]:
    """The basic net's train / validation / test points in the data's units."""
    from nndl.data.split import train_val_split

    full, test = study.task.points(data_units=True)
    train_idx, val_idx = train_val_split(len(full), 0.1, study.seed)
    return {"train": full.subset(train_idx), "val": full.subset(val_idx), "test": test}


def _fit(
    models: list[Any], points: dict[str, TensorData], best: int | None = 0, **refs: Any
) -> Any:
    """The fit over the input for 1-D data, predicted against true values otherwise (models
    and points in the data's units)."""
    from nndl.viz.regression import fit_data, parity_data

    if next(iter(points.values())).x.shape[1] == 1:
        return fit_data(models, points, best, **refs)
    return parity_data(models, points, best)
