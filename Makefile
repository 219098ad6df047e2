# The two commands: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DATA ?= $(CURDIR)/.demo-data

.PHONY: demo test lint bench clean

$(BIN)/tocsin: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: $(BIN)/tocsin
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/tocsin
	$(BIN)/tocsin --data-dir $(DEMO_DATA) demo

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

bench: $(BIN)/tocsin
	$(BIN)/python bench/ingest.py 20000
	$(BIN)/python bench/detect.py 4000
	$(BIN)/python bench/stories.py 20000
	$(BIN)/python bench/score.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/compare.py --limit 20000

clean:
	rm -rf $(VENV) $(DEMO_DATA) build *.egg-info src/*.egg-info
