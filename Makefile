# chipwar: set-up, demo, tests and lint. Every target creates the virtual environment itself.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# Find a Python >= 3.12: the usual names on PATH first, then pyenv's installed versions.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 \
	$$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$p; break; }; \
	done)

.PHONY: demo test test-fast lint venv clean

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "chipwar needs Python >= 3.12 and none was found (tried python3.13, python3.12, python3, pyenv versions)."; \
	  echo "Install one, or run: make PYTHON=/path/to/python3.12 <target>"; exit 2; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/chipwar demo

test: $(VENV)/.installed
	$(BIN)/pytest -q

test-fast: $(VENV)/.installed
	$(BIN)/pytest -q -m 'not slow'

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis chipwar-demo
