"""The README's library example runs as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_own_data_example_runs_and_prints_its_results() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("Your own data and nets", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code.group(1), "README.md", "exec"), {"__name__": "readme_example"})
    lines = printed.getvalue().splitlines()
    assert lines[0] == "epoch 50: validation loss " + lines[0].rsplit(" ", 1)[1]
    assert re.fullmatch(r"stopped by (patience|max_epochs), best epoch \d+", lines[-2])
    mean = float(re.fullmatch(r"5-fold validation loss (\S+) \+- \S+", lines[-1]).group(1))  # type: ignore[union-attr]
    assert mean < 0.05  # sin(x) is learned: the noise alone is 0.01
