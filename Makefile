# make run   - create .venv (Python >= 3.12) with every extra (analysis, dashboard, cluster, test), run the default scenario
# make test  - create/update .venv with the same extras and run the whole test suite, one pytest worker per core
#              (--dist loadfile: a test file stays on one worker, so its server or cluster starts once)
# make lint  - ruff, and lint-imports (the layers contract in pyproject.toml)
# make dashboard - serve the browser dashboard on 127.0.0.1 and print its address
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= test
ALL_EXTRAS := test,analysis,dashboard,cluster

# The first interpreter >= 3.12 among the usual names, then pyenv's installed versions.
PYTHON_312 := $(shell for c in python3.12 python3.13 python3 python; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    command -v $$c; exit 0; fi; done; \
	  root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
	  for p in $$(ls -d $$root/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	    if $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$p; exit 0; fi; done)

.PHONY: run test venv lint validate params docs clean dashboard

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	@if [ -z "$(PYTHON_312)" ]; then echo "error: Python >= 3.12 is needed and none was found (tried python3.12, python3.13, python3, python and pyenv versions)" >&2; exit 1; fi
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  rm -rf $(VENV); echo "creating $(VENV) with $(PYTHON_312)"; $(PYTHON_312) -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(VENV)/.installed-$(EXTRAS)

run:
	@$(MAKE) --no-print-directory venv EXTRAS=$(ALL_EXTRAS)
	$(VENV)/bin/geosim

# A target-specific EXTRAS does not reach the stamp file's name in venv's prerequisite (make
# expands it when it reads the file), so these targets call make again with EXTRAS set.
test:
	@$(MAKE) --no-print-directory venv EXTRAS=$(ALL_EXTRAS)
	$(VENV)/bin/python -m pytest -q -n auto --dist loadfile

dashboard:
	@$(MAKE) --no-print-directory venv EXTRAS=$(ALL_EXTRAS)
	$(VENV)/bin/geosim-dashboard

lint:
	@$(MAKE) --no-print-directory venv EXTRAS=$(ALL_EXTRAS)
	$(VENV)/bin/ruff check sim tests benchmarks scripts
	$(VENV)/bin/lint-imports

validate: venv
	$(VENV)/bin/geosim-validate

params: venv
	$(VENV)/bin/geosim-params

docs: venv
	$(VENV)/bin/geosim-params --markdown > docs/parameters.md

clean:
	rm -rf $(VENV) outputs/runs outputs/multirun .pytest_cache
