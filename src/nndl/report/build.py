"""Build report.md and report.html from a reproduce folder's results.json and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nndl._inputs import read_json_object
from nndl._io import write_text
from nndl.errors import DataError
from nndl.report import reference as ref
from nndl.report.document import Document, Figure, Heading, Paragraph, Table, to_html, to_markdown

__all__ = ["build_document", "write_report"]

REGRESSION_FIGURES = [
    (
        "figure_1_basic.png",
        "Figure 1: basic net: (a) train and validation loss per epoch, (b) output with the points",
    ),
    (
        "figure_2_best.png",
        "Figure 2: best net: (a) loss per epoch, (b) output, with the 5 fold nets' spread as a band",
    ),
    (
        "figure_3_weights_activations.png",
        "Figure 3: best net: weight histograms and activations for x = -4 and x = 2",
    ),
]
MNIST_FIGURES = [
    (
        "figure_4_probabilities.png",
        "Figure 4: class probabilities for a test digit and two Perlin noise images",
    ),
    (
        "figure_5_activation_maximization.png",
        "Figure 5: inputs that maximize each output neuron, per net",
    ),
    (
        "figure_6_contour_channels.png",
        "Figure 6: contour of the objective over the channels of conv layers 1-2",
    ),
    ("figure_6_contour_linear.png", "Figure 6: contour over the two linear layer sizes"),
    ("figure_6_contour_lr_wd.png", "Figure 6: contour over learning rate and weight decay"),
    ("figure_6_importances.png", "Figure 6: hyperparameter importances"),
    (
        "figure_7_feature_maps.png",
        "Figure 7: CNN feature maps of every conv layer for one test digit",
    ),
    ("figure_7_embedding.png", "Figure 7: CNN penultimate-layer features of test digits (PCA)"),
    ("figure_8_fcn_weights.png", "Figure 8: FCN first-layer weights as 28x28 images"),
    ("confusion_matrix.png", "Confusion matrix of the best net on the test set"),
]


def _f(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "-"


def _table_1(reg: dict[str, Any]) -> Table:
    rows = []
    for name in ("basic", "best"):
        ours, theirs = reg[name], ref.TABLE_1[name]
        rows.append(
            [name]
            + [_f(ours[k]) for k in ("train_loss", "val_loss", "test_loss")]
            + [_f(theirs[k]) for k in ("train_loss", "val_loss", "test_loss")]
        )
    rows.append(
        [
            "best: mean of the 5 fold nets",
            "-",
            "-",
            _f(reg["best"].get("ensemble_test_loss")),
            "-",
            "-",
            "-",
        ]
    )
    header = [
        "net",
        "train loss",
        "val loss",
        "test loss",
        "report train",
        "report val",
        "report test",
    ]
    return Table(
        header,
        rows,
        "Table 1: MSE of the basic and best regression nets, ours next to the report's.",
    )


def _table_2(nets: dict[str, Any]) -> Table:
    rows = []
    for name in ("fcn", "cnn", "dcnn", "pdcnn", "best"):
        ours, theirs = nets.get(name, {}), ref.TABLE_2[name]
        keys = ("train_loss", "val_loss", "test_accuracy")
        rows.append(
            [name.upper()] + [_f(ours.get(k)) for k in keys] + [_f(theirs[k]) for k in keys]
        )
    header = [
        "net",
        "train loss",
        "val loss",
        "test acc.",
        "report train",
        "report val",
        "report acc.",
    ]
    return Table(
        header, rows, "Table 2: cross-entropy losses and test accuracy, ours next to the report's."
    )


def _search_time(search: dict[str, Any]) -> str:
    """The search's wall time, saying so when the run resumed a study that had trials."""
    text = f"{_f(search.get('seconds'), 0)} s"
    if search.get("trials_before"):
        text += (
            f" (this run, which resumed the study after its first {search['trials_before']} trials)"
        )
    return text


def _regression_section(doc: Document, reg: dict[str, Any]) -> None:
    s = reg["search"]
    doc.add(Heading("Regression (report section 2)"), _table_1(reg))
    doc.add(
        Paragraph(
            f"Random search: {s.get('completed')} completed, {s.get('pruned')} pruned, {s.get('failed')} failed "
            f"trials in {_search_time(s)}; best mean validation loss {_f(s.get('best_value'))} "
            f"(report: {ref.REGRESSION_SEARCH['completed']} completed, best {ref.REGRESSION_SEARCH['best_value']})."
        )
    )
    params = reg["best"].get("params", {})
    doc.add(Paragraph("Best parameters: " + ", ".join(f"{k} = {v}" for k, v in params.items())))
    doc.add(*[Figure(Path("regression/figures") / name, text) for name, text in REGRESSION_FIGURES])


def _mnist_section(doc: Document, cls: dict[str, Any]) -> None:
    s, ood = cls["search"], cls["ood"]
    doc.add(
        Heading("MNIST classification (report section 3, appendices A-B)"), _table_2(cls["nets"])
    )
    doc.add(
        Paragraph(
            f"Optuna search ({cls.get('space', 'report')} space): {s.get('completed')} completed, "
            f"{s.get('pruned_invalid')} pruned as invalid architectures {s.get('invalid_by_layer') or ''}, "
            f"{s.get('pruned_learning_curve', 0)} stopped early by the {cls.get('pruner', 'no')} pruner, "
            f"{s.get('pruned')} pruned otherwise, {s.get('failed')} failed, in {_search_time(s)}; "
            f"best objective {_f(s.get('best_value'))} (report: {ref.MNIST_SEARCH['completed']} completed, "
            f"{ref.MNIST_SEARCH['pruned_invalid']} invalid, best {ref.MNIST_SEARCH['best_value']})."
        )
    )
    doc.add(
        Paragraph(
            "Best parameters: "
            + ", ".join(f"{k} = {_short(v)}" for k, v in (s.get("best_params") or {}).items())
        )
    )
    doc.add(
        Heading("Not a digit (PDCNN)", 3),
        Table(
            ["measure", "value"],
            [
                [
                    "fresh Perlin noise called 'not a digit'",
                    _f(ood.get("noise_called_not_a_digit")),
                ],
                [
                    "MNIST test digits called 'not a digit'",
                    _f(ood.get("digits_called_not_a_digit")),
                ],
                ["AUROC of P(not a digit), noise vs digits", _f(ood.get("auroc"))],
            ],
        ),
    )
    doc.add(*[Figure(Path("classification/figures") / name, text) for name, text in MNIST_FIGURES])


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _run_section(doc: Document, results: dict[str, Any]) -> None:
    machine, timings = results.get("machine", {}), results.get("timings", {})
    doc.add(Heading("This run"))
    doc.add(
        Paragraph(
            f"Budget: {results.get('budget', '?')}. Machine: "
            + ", ".join(f"{k} {v}" for k, v in machine.items())
        )
    )
    doc.add(
        Table(
            ["stage", "seconds"],
            [[k, _f(v, 1)] for k, v in timings.items()],
            "Wall time of each stage.",
        )
    )


def build_document(root: Path, results: dict[str, Any]) -> Document:
    """The report's blocks from ``results`` (a reproduce folder's results.json)."""
    doc = Document("nndl: the NNDL Homework 1 study, reproduced")
    doc.add(
        Paragraph(
            "Each table puts our numbers next to the original report's (A. Lovo, NNDL Homework 1, 2021). "
            "Regression runs on the data given (default: nndl's built-in function with two gaps, not the "
            "original's files), so its losses are comparable in kind, not digit for digit."
        )
    )
    _run_section(doc, results)
    if "regression" in results:
        _regression_section(doc, results["regression"])
    if "classification" in results:
        _mnist_section(doc, results["classification"])
    return doc


def write_report(root: Path, dest: Path | None = None) -> tuple[Path, Path]:
    """(Re)write ``report.md`` and ``report.html`` from ``root``'s results.json and figures.

    They go to ``dest`` (default ``root``), e.g. a staging folder that replaces ``root``'s files.
    """
    dest = dest or root
    path = root / "results.json"
    if not path.exists():
        raise DataError(f"{path}: no such file; run `nndl reproduce --out {root}` first")
    results = read_json_object(path, "results")
    _check_shape(path, results)
    try:
        doc = build_document(root, results)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise DataError(f"{path}: not the results of `nndl reproduce` (at {exc!r})") from None
    missing = [
        b.path for b in doc.blocks if isinstance(b, Figure) and not (root / b.path).is_file()
    ]
    if missing:
        raise DataError(f"{root}: missing figure file(s): {', '.join(str(m) for m in missing)}")
    write_text(dest / "report.md", to_markdown(doc))
    write_text(dest / "report.html", to_html(doc, root))
    return dest / "report.md", dest / "report.html"


def _check_shape(path: Path, results: dict[str, Any]) -> None:
    """The parts the report reads must be JSON objects: one line naming the first that is not."""
    for key in ("regression", "classification", "timings", "machine"):
        if key in results and not isinstance(results[key], dict):
            raise DataError(
                f"{path}: '{key}' is a {type(results[key]).__name__}, expected an object"
            )
