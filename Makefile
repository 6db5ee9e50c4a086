PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: demo test bench lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install -q -e ".[test,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/regression_demo.py

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/overhead.py

lint: $(STAMP)
	$(VENV)/bin/ruff check ember tests benchmarks examples tools
	$(VENV)/bin/ruff format --check ember tests benchmarks examples tools
	$(PY) tools/sz.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
