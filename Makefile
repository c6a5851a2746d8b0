PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e ".[test,demo,plot]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m flaxen.examples.digits --overwrite

test: $(VENV)/.installed
	$(PY) -m ruff check flaxen tests benchmarks
	$(PY) -m mypy flaxen
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: $(VENV)/.installed
	$(PY) -m ruff check flaxen tests benchmarks
	$(PY) -m mypy flaxen

bench: $(VENV)/.installed
	$(PY) benchmarks/overhead.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
