# nndl: two quick-start commands, `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test lint demo docs bench clean

setup: $(STAMP)

# torch==2.13.0 first: on machines that carry its CPU wheel on disk pip takes it in seconds;
# elsewhere the install below resolves torch from the range in pyproject.toml.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" || echo "torch 2.13.0 not available here; pip resolves torch from pyproject.toml"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

demo: setup
	$(BIN)/nndl reproduce --quick --out runs/demo
	@echo "report: runs/demo/report.html (and runs/demo/report.md)"

docs: setup
	$(BIN)/mkdocs build --strict
	@echo "site: site/index.html"

bench: setup
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/evolver_vs_loop.py
	$(BIN)/python bench/batched_folds.py
	$(BIN)/python bench/regression_quality.py
	$(BIN)/python bench/perlin_noise.py
	$(BIN)/python bench/pipelines.py
	$(BIN)/python bench/search_workers.py
	$(BIN)/python bench/frameworks.py
	$(BIN)/python bench/estimators.py
	$(BIN)/python bench/whole_study.py --budget quick
	$(BIN)/python bench/summary.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
