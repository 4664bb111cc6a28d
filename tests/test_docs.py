"""The documentation: the README is a short front door, its links resolve, the docs site builds
with ``mkdocs build --strict``, and every Python block of the README and the pages runs as
printed (a block right after ``<!-- not run: REASON -->`` is an excerpt and is skipped)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
BLOCK = re.compile(r"(<!-- not run: [^>]+ -->\n)?```python\n(.*?)```", re.S)


def python_blocks(page: Path) -> list[str]:
    """The page's Python blocks that run, in order (later ones use the names of earlier)."""
    return [code for skip, code in BLOCK.findall(page.read_text(encoding="utf-8")) if not skip]


def run_blocks(page: Path) -> list[str]:
    """Run the page's blocks in one namespace, in a temporary folder; the printed lines."""
    printed = io.StringIO()
    namespace = {"__name__": "docs_example"}
    with contextlib.redirect_stdout(printed):
        for code in python_blocks(page):
            exec(compile(code, str(page.relative_to(ROOT)), "exec"), namespace)
    return printed.getvalue().splitlines()


@pytest.mark.parametrize(
    "page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name.removesuffix(".md")
)
def test_the_python_blocks_of_each_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines = run_blocks(page)
    assert lines, f"{page.name} printed nothing"


def test_the_own_data_example_prints_what_the_page_says() -> None:
    page = ROOT / "docs" / "extending.md"
    section = page.read_text(encoding="utf-8").split("Your own data and nets", 1)[1]
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
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            path = target.split("#", 1)[0]
            if not path or re.match(r"https?://", target):
                continue
            if not (page.parent / path).is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_the_docs_site_builds_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    assert "NetRegressor" in api and "n_members" in api  # the reference is built from docstrings
