"""Build report.md and report.html from a reproduce folder's results.json and figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nndl._inputs import read_json_object
from nndl._io import write_text
from nndl.errors import DataError
from nndl.report.document import Document, Figure, Heading, Paragraph, Table, to_html, to_markdown
from nndl.report.sections import number, short, user_data

__all__ = ["build_document", "write_report"]

Section = Callable[[Document, dict[str, Any], str], None]  # the part, its results, the budget


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
            [[k, number(v, 1)] for k, v in timings.items()],
            "Wall time of each stage.",
        )
    )
    settings = results.get("budget_settings", {})
    if settings:
        rows = [[part, _budget_line(values)] for part, values in settings.items()]
        caption = "What the budget trains by default; flags and the study file override it."
        doc.add(Table(["study", "budget settings"], rows, caption))


def _budget_line(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {short(v)}" for k, v in values.items() if k != "name" and v is not None)


def build_document(
    root: Path, results: dict[str, Any], sections: Mapping[str, Section]
) -> Document:
    """The report's blocks from ``results`` (a reproduce folder's results.json): the run, then
    each study's section (``sections``: a kind of study's name to the function that adds its
    part, :func:`nndl.experiments.study.report_sections`)."""
    report_kinds = {"regression", "classify"} & set(results)  # the report's own two studies
    user = not report_kinds or user_data(results.get("regression", {}))
    user = user or "dataset" in results.get("classify", {})
    doc = Document(
        "nndl: a study of your data" if user else "nndl: the NNDL Homework 1 study, reproduced"
    )
    doc.add(
        Paragraph(
            "The studies run on the data given; the numbers of the report nndl began with "
            "(A. Lovo, NNDL Homework 1, 2021) are shown only next to the report's kind of data."
            if user
            else "Each table puts our numbers next to the original report's (A. Lovo, NNDL Homework 1, 2021). "
            "Regression runs on the data given (default: nndl's built-in function with two gaps, not the "
            "original's files), so its losses are comparable in kind, not digit for digit."
        )
    )
    _run_section(doc, results)
    for name, section in sections.items():
        if name in results:
            section(doc, results[name], str(results.get("budget", "")))
    return doc


def write_report(
    root: Path, dest: Path | None = None, *, sections: Mapping[str, Section]
) -> tuple[Path, Path]:
    """(Re)write ``report.md`` and ``report.html`` from ``root``'s results.json and figures.

    They go to ``dest`` (default ``root``), e.g. a staging folder that replaces ``root``'s files.
    """
    dest = dest or root
    path = root / "results.json"
    if not path.exists():
        raise DataError(f"{path}: no such file; run `nndl reproduce --out {root}` first")
    results = read_json_object(path, "results")
    _check_shape(path, results, sections)
    try:
        doc = build_document(root, results, sections)
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


def _check_shape(path: Path, results: dict[str, Any], sections: Mapping[str, Section]) -> None:
    """The parts the report reads must be JSON objects: one line naming the first that is not."""
    for key in (*sections, "timings", "machine"):
        if key in results and not isinstance(results[key], dict):
            raise DataError(
                f"{path}: '{key}' is a {type(results[key]).__name__}, expected an object"
            )
