"""The README is a short front door, its links and the docs' links resolve, and the library
example in the docs runs as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXTENDING = ROOT / "docs" / "extending.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_own_data_example_runs_and_prints_its_results() -> None:
    text = EXTENDING.read_text(encoding="utf-8")
    section = text.split("Your own data and nets", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code.group(1), "docs/extending.md", "exec"), {"__name__": "docs_example"})
    lines = printed.getvalue().splitlines()
    assert lines[0] == "epoch 50: validation loss " + lines[0].rsplit(" ", 1)[1]
    assert re.fullmatch(r"stopped by (patience|max_epochs), best epoch \d+", lines[-2])
    mean = float(re.fullmatch(r"5-fold validation loss (\S+) \+- \S+", lines[-1]).group(1))  # type: ignore[union-attr]
    assert mean < 0.05  # sin(x) is learned: the noise alone is 0.01


def test_the_readme_is_a_front_door_of_at_most_250_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def test_every_relative_link_in_the_readme_and_the_docs_points_to_a_file() -> None:
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            path = target.split("#", 1)[0]
            if not path or re.match(r"https?://", target):
                continue
            if not (page.parent / path).is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken
