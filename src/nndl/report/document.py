"""A report as a list of blocks, rendered to Markdown (linking PNGs) or one HTML file (embedding them)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Document", "Figure", "Heading", "Paragraph", "Table", "to_html", "to_markdown"]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    path: Path  # relative to the report's folder
    caption: str


Block = Heading | Paragraph | Table | Figure


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def to_markdown(doc: Document) -> str:
    """Markdown; figures are links to the PNG files."""
    lines = [f"# {doc.title}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Paragraph):
            lines += [b.text, ""]
        elif isinstance(b, Table):
            lines += ["| " + " | ".join(b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(r) + " |" for r in b.rows]
            lines += ["", f"*{b.caption}*", ""] if b.caption else [""]
        else:
            lines += [f"![{b.caption}]({b.path.as_posix()})", f"*{b.caption}*", ""]
    return "\n".join(lines)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}
figure{margin:1em 0}figcaption,.caption{color:#555;font-style:italic}code{background:#f3f3f3}"""


def to_html(doc: Document, root: Path) -> str:
    """One self-contained HTML page: every figure embedded as a base64 PNG (readable offline)."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(doc.title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(doc.title)}</h1>",
    ]
    for b in doc.blocks:
        parts.append(_html_block(b, root))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_block(b: Block, root: Path) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level}>{html.escape(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return f"<p>{html.escape(b.text)}</p>"
    if isinstance(b, Table):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in b.rows
        )
        caption = f"<div class='caption'>{html.escape(b.caption)}</div>" if b.caption else ""
        return f"<table><tr>{head}</tr>{rows}</table>{caption}"
    data = base64.b64encode((root / b.path).read_bytes()).decode("ascii")
    return (
        f"<figure><img alt='{html.escape(b.caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(b.caption)}</figcaption></figure>"
    )
