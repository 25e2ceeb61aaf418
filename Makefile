# The two commands of the README: `make run` and `make test`. Both bootstrap .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint bootstrap cluster

WORKERS ?= 2

bootstrap: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[embedded,test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/jixu run

# N engine processes behind nginx on loopback (README: Production): http://127.0.0.1:8000/
cluster: $(STAMP)
	$(VENV)/bin/python scripts/cluster.py --workers $(WORKERS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
