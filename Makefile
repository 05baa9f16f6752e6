# reelforge: `make run` starts the service, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: run test check bench bench-create fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The tests build the diffusion engines at tiny size on the CPU, so they need that extra too
# (torch==2.13.0 is a CPU build on these machines).
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,diffusion]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/reelforge serve

# Two worker processes (CI has 2 cores), each test file kept on one worker: module fixtures (live
# servers, DBOS apps: one per process) stay whole. Set PYTEST_WORKERS=0 to run in one process.
PYTEST_WORKERS ?= 2
test: $(VENV)/.installed-dev
	@$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

check: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The create benchmark needs wrk (apt-get install wrk); `make bench` skips it without.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/preview.py
	@if command -v wrk >/dev/null 2>&1; then $(BIN)/python bench/create.py --write; \
	else echo "bench/create.py skipped: wrk is not installed (apt-get install wrk)"; fi

bench-create: $(VENV)/.installed-dev
	$(BIN)/python bench/create.py --write

# The property-based run over the OpenAPI document, longer than in `make test`: 100 examples per
# operation and mode, at most 15 minutes; zero 5xx answers expected.
fuzz: $(VENV)/.installed-dev
	REELFORGE_FUZZ_EXAMPLES=100 REELFORGE_FUZZ_SECONDS=900 $(BIN)/python -m pytest -q -s \
		--timeout=1200 tests/api/test_fuzz.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
