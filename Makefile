# One developer loop, the same commands locally and in CI.
# Every target bootstraps .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: venv sysdeps test test-fast lint bench demo demo-run clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,nats,amqp,mqtt,redis,kafka,postgres]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests use when they are missing (bubblewrap for the code-step sandbox,
# chromium for the inspector's browser tests).
sysdeps:
	@bash scripts/sysdeps.sh

# The whole suite, with line coverage of src/emitflow (its total printed at the end).
test: $(STAMP) sysdeps
	$(BIN)/python -m pytest --cov --cov-report= $(PYTEST_ARGS)
	@echo "coverage of src/emitflow: $$($(BIN)/python -m coverage report --format=total)% of lines"

# Everything but the tests marked slow (fuzzing, schemathesis, end-to-end CLI): under 2 minutes.
test-fast: $(STAMP) sysdeps
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The server with the example workflows and the seed's walkthrough to try with curl.
demo: $(STAMP)
	$(BIN)/python examples/serve.py

# One workflow run in this process: the order example against a local orders service.
demo-run: $(STAMP)
	$(BIN)/python examples/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .emitflow-demo .coverage
