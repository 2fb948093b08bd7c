# `make run` and `make test` are the two commands of the README: each sets up a virtual
# environment in .venv (once, or again when pyproject.toml or requirements.lock changes)
# and then runs. The environment is installed from requirements.lock, the committed lock of
# the whole dependency tree (exact versions and SHA-256 hashes), so every machine gets the
# versions the tests passed with. `make lock` refreshes the lock from pyproject.toml's ranges.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
# The tool that resolves the lock lives in its own environment, not in the project's.
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.9

.PHONY: setup run test lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit("forecast needs Python >= 3.11; $(PYTHON) is " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $(STAMP)

# The default job; pass Hydra overrides with ARGS, e.g. make run ARGS="horizon=2030".
run: setup
	$(BIN)/forecast $(ARGS)

# A headless Chromium for the browser tests, installed where missing (else those tests skip).
test: setup
	sh tests/browser_setup.sh $(VENV)/browser-setup.txt
	$(BIN)/python -m pytest -q

# Re-resolve every dependency (newest versions within pyproject.toml's ranges, the same
# versions for Python 3.11 to 3.13) and write requirements.lock with hashes. Run it when
# pyproject.toml's dependencies change or to take up new releases, then `make test` and
# commit requirements.lock together with the code it was tested with.
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip --disable-pip-version-check --quiet install uv==$(UV_VERSION)
	printf 'setuptools>=68\nwheel\n' | $(LOCK_VENV)/bin/uv pip compile pyproject.toml - \
		--extra test --universal --fork-strategy fewest --python-version 3.11 \
		--generate-hashes --annotation-style line --custom-compile-command "make lock" \
		--upgrade -o $(LOCK)

clean:
	rm -rf $(VENV) $(LOCK_VENV) outputs multirun .pytest_cache
