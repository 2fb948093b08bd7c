# `make run` and `make test` are the two commands of the README: each sets up a virtual
# environment in .venv (once, or again when pyproject.toml changes) and then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# The default job; pass Hydra overrides with ARGS, e.g. make run ARGS="horizon=2030".
run: setup
	$(BIN)/forecast $(ARGS)

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
