# The two commands of the README: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint unit population bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "guahao needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, load the demo hospital on SQLite, show today's duty roster and serve the web chat
## on http://127.0.0.1:8000 (Ctrl-C stops).
run: install
	$(BIN)/guahao db upgrade
	$(BIN)/guahao demo load
	$(BIN)/guahao roster
	$(BIN)/guahao serve --host 127.0.0.1 --port 8000

## Set up, then lint, type-check, check the dependency rule and run every test
## (on SQLite and on the PostgreSQL server at GUAHAO_TEST_POSTGRES_URL), in TEST_PROCESSES
## processes: docs/testing.md says why more than the cores.
TEST_PROCESSES ?= 3
test: install lint
	$(BIN)/pytest --numprocesses $(TEST_PROCESSES) --dist worksteal -m "not serial"
	$(BIN)/pytest -m serial

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest tests/unit

## The population test at full size: 600 generated families (about 1,200 patients) register and
## book on the web chat and by SMS, on SQLite and PostgreSQL (`make test` runs 60 of them).
population: install
	GUAHAO_POPULATION=600 $(BIN)/pytest --numprocesses 2 tests/integration/test_population.py

## Benchmarks (booking, NLU, dialogue, notices); each writes its part of docs/benchmarks.md.
bench: install
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/nlu.py
	$(BIN)/python bench/dialogue.py
	$(BIN)/python bench/notices.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
