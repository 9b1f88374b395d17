# gankit: `make figures` (the report, full mode) and `make test` (tests + notebooks, quick mode).
# Both create .venv, install the pinned requirements and gankit, and fetch MNIST if needed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: setup data figures test unit test-compat lint format bench clean-runs

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)

data: setup
	$(PY) -m gankit.data

# Full mode: re-executes every notebook in order; they write into figures/.
figures: data
	$(PY) -m gankit figures $(NOTEBOOKS)

# Unit tests, then the notebooks under nbval in quick mode (GANKIT_QUICK=1).
test: data
	GANKIT_QUICK=1 $(PY) -m pytest tests $(NOTEBOOKS) --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg --durations=15

unit: setup
	$(PY) -m pytest tests --durations=10

# Python 3.13 with the Colab stack (requirements-compat.txt) in a second venv, gankit
# installed from this checkout as a user installs it (not editable, dependencies from
# pyproject.toml), then the unit tests in quick mode against that installed copy
# (python -P: the checkout is not on sys.path; the `python -c` children of some tests
# import the checkout, the same code). Not the notebooks.
PYTHON_COMPAT ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13)),python3.13)
VENV_COMPAT := .venv-compat
PY_COMPAT := $(VENV_COMPAT)/bin/python

test-compat:
	@test -x $(PY_COMPAT) || $(PYTHON_COMPAT) -m venv $(VENV_COMPAT)
	$(PY_COMPAT) -m pip install --quiet --upgrade pip
	$(PY_COMPAT) -m pip install --quiet --upgrade -r requirements-compat.txt ".[dev]"
	$(PY_COMPAT) -P -c "import sys, gankit, tensorflow as tf, keras, numpy, pandas; \
		print('Python', sys.version.split()[0], '| gankit from', gankit.__file__); \
		print('TF', tf.__version__, '| Keras', keras.__version__, '| numpy', numpy.__version__, '| pandas', pandas.__version__)"
	$(PY_COMPAT) -P -m gankit.data
	GANKIT_QUICK=1 $(PY_COMPAT) -P -m pytest tests -p no:cacheprovider --durations=10

lint: setup
	$(PY) -m ruff check gankit tests benchmarks notebooks
	$(PY) -m ruff format --check gankit tests benchmarks

format: setup
	$(PY) -m ruff format gankit tests benchmarks
	$(PY) -m ruff check --fix gankit tests benchmarks

bench: data
	$(PY) benchmarks/train_step.py

clean-runs:
	rm -rf runs
