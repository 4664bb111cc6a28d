"""examples/quickstart.ipynb runs top to bottom in a fresh kernel and shows its results.

The kernel is this test's own Python (a kernelspec written into a temporary folder), with one
CPU thread and matplotlib's inline backend, started in a temporary working directory.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, float]:
    """The notebook after running it, and the seconds it took (kernel start included)."""
    root = tmp_path_factory.mktemp("notebook")
    kernels = root / "kernels"
    write_kernel_spec(kernels / "nndl-test", overrides={"env": KERNEL_ENV})
    manager = AsyncKernelManager(
        kernel_name="nndl-test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    workdir = root / "work"
    workdir.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, km=manager, timeout=120, resources={"metadata": {"path": workdir}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    print(f"\nquickstart.ipynb executed in {seconds:.1f} s", file=sys.stderr)
    assert not list(workdir.iterdir()), "the notebook writes nothing into its working directory"
    return nb, seconds


def _outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _printed(nb: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in _outputs(nb) if o.output_type == "stream" and o.name == "stdout")


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not printed; the notebook printed:\n{text}"
    return float(found.group(1))


def test_the_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_the_notebook_runs_without_error_in_well_under_a_minute(
    executed: tuple[nbformat.NotebookNode, float],
) -> None:
    nb, seconds = executed
    assert not [o for o in _outputs(nb) if o.output_type == "error"]
    assert seconds < 60


def test_the_notebook_shows_its_figures_and_results(
    executed: tuple[nbformat.NotebookNode, float],
) -> None:
    nb, _ = executed
    images = [o for o in _outputs(nb) if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the loss curves and the ensemble's band
    tables = [o for o in _outputs(nb) if "text/html" in o.get("data", {})]
    assert any("mean_test_score" in o.data["text/html"] for o in tables)
    printed = _printed(nb)
    on_data, in_gap = (
        _number(r"members' std: (\S+) on the data", printed),
        _number(r"members' std: \S+ on the data, (\S+) in the gap", printed),
    )
    assert in_gap > on_data  # the ensemble is least sure where there are no points
    assert _number(r"5-fold accuracy: (\S+)", printed) > 0.85
    assert _number(r"best cross-validated accuracy: (\S+)", printed) > 0.85
    assert _number(r"test accuracy of the refit net: (\S+)", printed) > 0.85
    assert "same predictions: True" in printed
