"""Checks anyone can run on the code itself: small files, small functions, ruff's layout, and
no module importing from a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nndl"
FILES = sorted(SRC.rglob("*.py"))
LAYERS = {  # a module may import from its own layer and the layers below it
    "errors": 0, "_lazy": 0, "_io": 0, "_timing": 0, "__init__": 0,
    "_inputs": 1, "plugins": 1,
    "data": 2, "models": 2, "evaluation": 2, "report": 2, "studies": 2,
    "tasks": 3, "training": 3, "viz": 3,
    "search": 4, "estimators": 4,
    "experiments": 5,
    "cli": 6, "__main__": 6,
}  # fmt: skip
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 35


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module(path: Path) -> str:
    return ".".join(("nndl", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(
        ".__init__"
    )


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nndl"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nndl")}
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_from_a_layer_above_its_own(path: Path) -> None:
    own = LAYERS[_part(_module(path))]
    above = sorted(m for m in _imports(ast.parse(path.read_text())) if LAYERS[_part(m)] > own)
    assert not above, f"{path.name} (layer {own}) imports {above}"


def test_files_are_small_and_laid_out_by_ruff() -> None:
    long = [
        f"{p.relative_to(SRC)}: {n}"
        for p in FILES
        if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES
    ]
    assert not long, f"files over {MAX_FILE_LINES} lines: {long}"
    tests = sorted(Path(__file__).parent.glob("*.py"))
    skips = [
        p.name
        for p in [*FILES, *tests]
        if "# fmt: skip" in p.read_text() and p.name != "test_structure.py"
    ]
    assert not skips, f"'# fmt: skip' in {skips}"


def _stores_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """An ``__init__`` that only stores its arguments as attributes (scikit-learn's estimator
    convention): one line per parameter, however many there are."""
    body = [
        n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
    ]
    return node.name == "__init__" and all(
        isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Name)
        and all(isinstance(t, ast.Attribute) and t.attr == n.value.id for t in n.targets)
        for n in body
    )


def test_functions_are_small() -> None:
    long = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES and not _stores_parameters(node):
                    long.append(f"{path.relative_to(SRC)}:{node.name} {size}")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_importing_every_module_changes_nothing_outside_nndl() -> None:
    import subprocess
    import sys

    probe = (
        "import importlib, logging, pathlib, warnings, matplotlib, optuna, torch, tqdm, filelock\n"
        "import optuna.visualization.matplotlib  # third-party filters set at their import\n"
        "import scipy.special, sklearn.base\n"
        "def state(): return (matplotlib.get_backend() if 'matplotlib.pyplot' in __import__('sys').modules"
        " else matplotlib.rcParams._get('backend'), list(warnings.filters),"
        " logging.getLogger('optuna').level, optuna.logging.get_verbosity(), logging.getLogger().level)\n"
        "before = state()\n"
        f"root = pathlib.Path({str(SRC)!r})\n"
        "for p in sorted(root.rglob('*.py')):\n"
        "    name = '.'.join(('nndl', *p.relative_to(root).with_suffix('').parts)).removesuffix('.__init__')\n"
        "    if not name.endswith('__main__'): importlib.import_module(name)\n"
        "assert state() == before, (before, state())\n"
        "print('unchanged')\n"
    )
    env = {"PYTHONPATH": str(SRC.parent), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "unchanged", result.stderr[-2000:]


def _runtime_imports(path: Path) -> set[str]:
    """The nndl modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks left out),
    ``from a import b`` counted as an import of ``a.b`` where that is a module."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nndl"):
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nndl")}
    return found


def test_no_import_cycle_inside_a_folder() -> None:
    modules = {_module(p): p for p in FILES}
    graph = {
        m: {i for i in _runtime_imports(p) if i in modules and i != m and _folder(i) == _folder(m)}
        for m, p in modules.items()
    }
    cycles = []
    for start in graph:  # a module that reaches itself through its folder's modules
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == start:
                cycles.append(start)
                break
            if m not in seen:
                seen.add(m)
                todo.extend(graph[m])
    assert not cycles, f"modules in an import cycle inside their folder: {sorted(cycles)}"


def _folder(module: str) -> str:
    return module.rsplit(".", 1)[0]


def test_no_module_that_runs_studies_compares_a_study_name() -> None:
    from nndl.experiments.study import studies

    names = set(studies())
    found = []
    for path in FILES:
        if _part(_module(path)) not in ("experiments", "report", "cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            values = set()
            for side in (node.left, *node.comparators):
                items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                values |= {i.value for i in items if isinstance(i, ast.Constant)}
            if values & names:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {ast.unparse(node)}")
    assert not found, f"loop over the registry of studies instead: {found}"


# called by others with positional arguments: a torch forward hook, process targets
POSITIONAL_BY_CONTRACT = {"hook", "_process_worker", "_worker"}


def test_parameters_past_the_third_are_keyword_only() -> None:
    found = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            positional = [
                a.arg
                for a in node.args.posonlyargs + node.args.args
                if a.arg not in ("self", "cls")
            ]
            if len(positional) > 3 and node.name not in POSITIONAL_BY_CONTRACT:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert not found, f"make the parameters past the third keyword-only (after *): {found}"
