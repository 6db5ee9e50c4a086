# The project's commands; each creates .venv on first use (Python 3.10+ and pip are all it needs).
#   make demo   install Ember with the train and datasets extras and run examples/demo.py
#   make test   install Ember with the test and dev extras, run the suite (.ci/run calls this)
#   make bench  side-by-side benchmarks vs PyTorch (BENCH_ARGS=--write updates RESULTS.md)
#   make lint   ruff check + format check, then the code-size table
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BENCH_ARGS ?=
SOURCES := ember tests benchmarks examples tools

.PHONY: demo test smoke bench lint clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Ember needs Python 3.10+, got " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

# Stamps record what is installed; they are redone when pyproject.toml changes.
$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-demo: $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[train,datasets]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-test: $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[test,dev]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed-demo
	$(PY) examples/demo.py

test: $(VENV)/.installed-test
	$(PY) -m pytest -q

smoke: $(VENV)/.installed-test
	$(PY) -m pytest -q -x tests/test_layering.py tests/test_examples.py

bench: $(VENV)/.installed-test
	$(PY) benchmarks/overhead.py $(BENCH_ARGS)
	$(PY) benchmarks/nn_layers.py
	$(PY) benchmarks/nn_lstm.py --threads 1
	$(PY) benchmarks/nn_gpt.py --threads 1
	$(PY) benchmarks/optim_step.py --threads 1
	$(PY) benchmarks/dataloader.py
	$(PY) benchmarks/models_inference.py --threads 1

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(PY) tools/sz.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
