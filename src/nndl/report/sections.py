"""Each kind of study's part of the report, from its results (``results.json``'s entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nndl.report import reference as ref
from nndl.report.captions import REGRESSION_FIGURES, image_figures, in_words_of
from nndl.report.document import Document, Figure, Heading, Paragraph, Table

__all__ = [
    "answer_nets",
    "classify_section",
    "number",
    "regression_section",
    "short",
    "tabular_section",
    "user_data",
]


def number(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "-"


def answer_nets(refit: dict[str, Any]) -> str:
    """What the regression study's answer is made of, from its row (``results.json``'s
    ``refit``): e.g. '3 configurations x 5 seeds refit on all points + 5 fold nets'."""
    configs, seeds = refit.get("configs", 1), refit["members"]
    nets = f"{configs} configurations x {seeds} seeds" if configs > 1 else f"{seeds} seeds"
    folds = f" + {refit['fold_nets']} fold nets" if refit.get("fold_nets") else ""
    return f"{nets} refit on all points{folds}"


def user_data(reg: dict[str, Any]) -> bool:
    """A user's table (several columns or scaled): no comparison with the report's numbers."""
    return "inputs" in reg.get("data", {})


def _without_report(table: Table) -> Table:
    """The table without its "report ..." columns (a user's data has no report to compare)."""
    keep = [i for i, h in enumerate(table.header) if not h.startswith("report")]
    rows = [[r[i] for i in keep] for r in table.rows]
    caption = table.caption.replace(", ours next to the report's", "")
    return Table([table.header[i] for i in keep], rows, caption)


def _table_1(reg: dict[str, Any]) -> Table:
    rows = []
    names = {"basic": "basic", "best": "best of 5 folds (the report's protocol)"}
    for name, label in names.items():
        ours, theirs = reg[name], ref.TABLE_1[name]
        rows.append(
            [label]
            + [number(ours[k]) for k in ("train_loss", "val_loss", "test_loss")]
            + [number(theirs[k]) for k in ("train_loss", "val_loss", "test_loss")]
        )
    ensemble = number(reg["best"].get("ensemble_test_loss"))
    rows.append(["best: mean of the 5 fold nets", "-", "-", ensemble, "-", "-", "-"])
    refit, gp = reg.get("refit"), reg.get("gp") or {}
    if refit:
        label = f"nndl's answer: {answer_nets(refit)}"
        rows.append(
            [label, number(refit["train_loss"]), "-", number(refit["test_loss"]), "-", "-", "-"]
        )
    if "test_loss" in gp:
        rows.append(["Gaussian process (reference)", number(gp["train_loss"]), "-"])
        rows[-1] += [number(gp["test_loss"]), "-", "-", "-"]
    header = ["net", "train loss", "val loss", "test loss", *_REPORT_COLUMNS[:2], "report test"]
    caption = (
        "Table 1: MSE of the regression nets, ours next to the report's; nndl's answer is the "
        "mean of its nets, the Gaussian process (scikit-learn, RBF + white noise) the classical one."
    )
    return Table(header, rows, caption)


_REPORT_COLUMNS = ("report train", "report val")


SMOKE_RUN = (
    "The quick budget is a smoke run: it checks that every stage runs, on 12,000 images and a "
    "few epochs, so its search's best net (one epoch per fold, retrained for 3) is not a result "
    "and is left out. `nndl reproduce` runs the default budget (about 25 minutes on 2 cores)."
)


def _table_2(nets: dict[str, Any], smoke: bool = False) -> Table:
    rows = []
    names = ("fcn", "cnn", "dcnn", "pdcnn") if smoke else ("fcn", "cnn", "dcnn", "pdcnn", "best")
    for name in (*names, "refit") if "refit" in nets and not smoke else names:
        ours, theirs = nets.get(name, {}), ref.TABLE_2.get(name, {})
        keys = ("train_loss", "val_loss", "test_accuracy")
        rows.append(
            [name.upper()]
            + [number(ours.get(k)) for k in keys]
            + [number(theirs.get(k)) for k in keys]
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
    text = f"{number(search.get('seconds'), 0)} s"
    if search.get("trials_before"):
        text += (
            f" (this run, which resumed the study after its first {search['trials_before']} trials)"
        )
    return text


def _users_table(doc: Document, reg: dict[str, Any]) -> None:
    """Table 1 of a user's table: its columns, no report numbers, the units of its losses."""
    data = reg["data"]
    doc.add(Heading(f"Regression: {data['train_csv']}"), _without_report(_table_1(reg)))
    scaled = data.get("standardized")
    units = (
        " The nets train on inputs and target standardized by the training rows; losses are in "
        f"the target's units squared (its training variance, {scaled['target_std'] ** 2:.4g}, is "
        "the MSE of predicting the mean)."
        if scaled
        else ""
    )
    inputs = ", ".join(data.get("inputs", []))
    doc.add(Paragraph(f"Target {data.get('target')} from {inputs}.{units}"))


def regression_section(doc: Document, reg: dict[str, Any], budget: str = "") -> None:
    s, user, space = reg["search"], user_data(reg), reg.get("space", "report")
    if user:
        _users_table(doc, reg)
    else:
        doc.add(Heading("Regression (report section 2)"), _table_1(reg))
    reference = (
        f" (report: {ref.REGRESSION_SEARCH['completed']} completed, best "
        f"{ref.REGRESSION_SEARCH['best_value']})"
    )
    doc.add(
        Paragraph(
            f"Random search ({space} space): {s.get('completed')} completed, {s.get('pruned')} "
            f"pruned, {s.get('failed')} failed trials in {_search_time(s)}; best mean validation "
            f"loss {number(s.get('best_value'))}{'' if user or space != 'report' else reference}."
        )
    )
    params = reg["best"].get("params", {})
    doc.add(Paragraph("Best parameters: " + ", ".join(f"{k} = {v}" for k, v in params.items())))
    figures = REGRESSION_FIGURES[:2] if user else REGRESSION_FIGURES  # Figure 3 probes 1-D inputs
    for name, text in figures:
        shown = text.replace("output with the points", "predicted against true values")
        doc.add(Figure(Path("regression/figures") / name, shown if user else text))


def classify_section(doc: Document, cls: dict[str, Any], budget: str = "") -> None:
    """The image study: Table 2, the search, the noise class, the figures. The quick budget's
    search is a smoke run (one epoch per fold): its best net is left out of the table."""
    s, ood, dataset = cls["search"], cls["ood"], cls.get("dataset")
    smoke = budget == "quick"
    if dataset is None:
        doc.add(
            Heading("MNIST classification (report section 3, appendices A-B)"),
            _table_2(cls["nets"], smoke),
        )
    else:
        table = _without_report(_table_2(cls["nets"], smoke))
        doc.add(Heading(f"Image classification: {dataset}"), table)
        doc.add(Paragraph(f"Classes: {', '.join(cls.get('classes', []))}."))
        if cls.get("held_out_test"):
            share = cls["held_out_test"]["fraction"]
            doc.add(
                Paragraph(
                    f"Test images: {share:.0%} of the folder's, held out by nndl "
                    "(stratified by class, seed 0); the folder has no test/."
                )
            )
    _table_notes(doc, cls["nets"], smoke)
    doc.add(_search_paragraph(cls, dataset))
    doc.add(
        Paragraph(
            "Best parameters: "
            + ", ".join(f"{k} = {short(v)}" for k, v in (s.get("best_params") or {}).items())
        )
    )
    _noise_class(doc, ood, dataset)
    for name, text in image_figures(cls.get("contours", {})):
        doc.add(Figure(Path("classify/figures") / name, in_words_of(dataset, text)))


def _table_notes(doc: Document, nets: dict[str, Any], smoke: bool) -> None:
    """Under Table 2: the smoke run's caveat, or what its REFIT row is."""
    if smoke:
        doc.add(Paragraph(SMOKE_RUN))
    elif "refit" in nets:
        refit = nets["refit"]
        cuts = ", ".join(map(str, refit.get("milestones", []))) or "none"
        doc.add(
            Paragraph(
                f"REFIT: the best net's configuration trained again on every training image "
                f"(no validation) for {refit.get('epochs')} epochs, the best net's best epoch; "
                f"its learning rate cut after the same epochs as the best net's ({cuts})."
            )
        )


def _search_paragraph(cls: dict[str, Any], dataset: str | None) -> Paragraph:
    s = cls["search"]
    return Paragraph(
        f"Optuna search ({cls.get('space', 'report')} space): {s.get('completed')} completed, "
        f"{s.get('pruned_invalid')} pruned as invalid architectures {s.get('invalid_by_layer') or ''}, "
        f"{s.get('pruned_learning_curve', 0)} stopped early by the {cls.get('pruner', 'no')} pruner, "
        f"{s.get('pruned')} pruned otherwise, {s.get('failed')} failed, in {_search_time(s)}; "
        f"best objective {number(s.get('best_value'))}"
        + (
            f" (report: {ref.MNIST_SEARCH['completed']} completed, "
            f"{ref.MNIST_SEARCH['pruned_invalid']} invalid, best {ref.MNIST_SEARCH['best_value']})."
            if dataset is None
            else "."
        )
    )


def _noise_class(doc: Document, ood: dict[str, Any], dataset: str | None) -> None:
    """The PDCNN's extra class: how well it separates noise from the data's images."""
    rows = [
        ["fresh Perlin noise called 'not a digit'", number(ood.get("noise_called_noise"))],
        ["MNIST test digits called 'not a digit'", number(ood.get("images_called_noise"))],
        ["AUROC of P(not a digit), noise vs digits", number(ood.get("auroc"))],
    ]
    doc.add(
        Heading(in_words_of(dataset, "Not a digit (PDCNN)"), 3),
        Table(["measure", "value"], [[in_words_of(dataset, r[0]), r[1]] for r in rows]),
    )


def short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def tabular_section(doc: Document, tab: dict[str, Any], budget: str = "") -> None:
    """The tabular study: the search, the best net's accuracy, its confusion matrix."""
    doc.add(Heading("Tabular classification"))
    rows = [
        ["cross-validated accuracy of the best trial", number(tab.get("cv_accuracy"))],
        [
            "test accuracy of the best, refit on every training row",
            number(tab.get("test_accuracy")),
        ],
        ["trials: completed / pruned", f"{tab.get('completed')} / {tab.get('pruned')}"],
        ["stratified folds", str(tab.get("folds"))],
    ]
    doc.add(Table(["", "value"], rows, "The search with NetSearchCV and its best net."))
    params = tab.get("best_params") or {}
    doc.add(
        Paragraph("Best parameters: " + ", ".join(f"{k} = {short(v)}" for k, v in params.items()))
    )
    doc.add(Paragraph(f"Classes: {', '.join(map(str, tab.get('classes', [])))}."))
    doc.add(
        Figure(
            Path("tabular/confusion_matrix.png"),
            "Confusion matrix of the best net on the test rows (rows: true class).",
        )
    )
    doc.add(
        Figure(
            Path("tabular/loss_curves.png"),
            f"The best net's cross-entropy per epoch as it was refit (stopped at epoch "
            f"{tab.get('epochs')}, its weights from epoch {tab.get('best_epoch')}).",
        )
    )
