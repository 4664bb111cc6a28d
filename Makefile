# nndl: two quick-start commands, `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test lint demo bench clean

setup: $(STAMP)

# torch==2.13.0 first: on machines that carry its CPU wheel on disk pip takes it in seconds;
# elsewhere the install below resolves torch from the range in pyproject.toml.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" || echo "torch 2.13.0 not available here; pip resolves torch from pyproject.toml"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

demo: setup
	$(BIN)/nndl train --task mnist --arch dcnn --epochs 3 --out runs/demo
	@$(BIN)/python -c "import json; m = json.load(open('runs/demo/metrics.json')); print(f\"DCNN, {m['epochs']} epochs: test accuracy {m['test_accuracy']:.4f} (results in runs/demo)\")"

bench: setup
	$(BIN)/python bench/evolver_vs_loop.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
