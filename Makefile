# ossbatch — every install step lives here: a fresh machine needs only `make demo` / `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENV ?= local
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup test test-all test-peer peer-sdist lint format bench demo clean

setup: $(STAMP)

# Re-runs cheaply: the venv is rebuilt only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,infra]'
	@touch $(STAMP)

# Binaries the zip corpus tests run (tests/producers.py): installed with apt only when missing.
TEST_TOOLS := zip:zip 7z:p7zip-full
.PHONY: test-tools
test-tools:
	@missing=""; for pair in $(TEST_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q $$missing >/dev/null || echo "note: apt-get could not install$$missing: the producer corpus tests skip"; \
	  else echo "note: install$$missing (apt-get install$$missing) or the producer corpus tests skip"; fi; \
	fi

# The CI suite: everything but scenarios marked slow (those run in test-all), then the peer
# suite (about a minute on 2 cores).
test: setup test-tools
	$(BIN)/python -m pytest -m "not slow" -n 2 -q
	$(MAKE) test-peer

test-all: setup test-tools
	$(BIN)/python -m pytest -n 2 -q
	$(MAKE) test-peer

# The peer suite: oss2's own functional tests (from its pinned sdist) against a fresh localcloud.
# The sdist is a dev dependency fetched once into build/peer-cache (pip download, no binary).
PEER_CACHE := build/peer-cache
peer-sdist: setup
	@v=$$($(BIN)/python -c 'from importlib.metadata import version; print(version("oss2"))'); \
	test -f $(PEER_CACHE)/oss2-$$v.tar.gz || \
	$(BIN)/python -m pip download -q --no-deps --no-binary :all: "oss2==$$v" -d $(PEER_CACHE)

test-peer: peer-sdist
	$(BIN)/python -m peer

# the flows as every environment deploys them, through the strict CloudFlow parser
# (tests/unit/test_flows_check.py runs the same command in `make test`)
check-flows: setup
	$(BIN)/ossbatch flows check

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(BIN)/python -m bench

demo: setup
	$(BIN)/python -m ossbatch.demo

clean:
	rm -rf $(VENV) cdktf.out build .pytest_cache

# --- infra (CDK for Terraform) -------------------------------------------------
# (owned by infra/: synth, hcl, review, package, plan, deploy, destroy)

# ENV=local|dev|staging|prod (default local). synth/hcl/review/package run offline
# (package downloads pinned wheels once into build/package-cache). plan/deploy/destroy
# need terraform, credentials and the alicloud provider: they stop at once if one is missing.
.PHONY: synth hcl review package plan deploy destroy
INFRA := $(BIN)/python -m infra

synth: setup
	$(INFRA) synth --env $(ENV)

hcl: setup
	$(INFRA) hcl --env $(ENV)

review: setup
	$(INFRA) review --env $(ENV) $(if $(BASE),--base $(BASE))

package: setup
	$(INFRA) package

plan: setup
	$(INFRA) plan --env $(ENV)

deploy: setup
	$(INFRA) deploy --env $(ENV) $(if $(filter 1 true yes,$(AUTO_APPROVE)),--auto-approve)

destroy: setup
	$(INFRA) destroy --env $(ENV) $(if $(filter 1 true yes,$(FORCE)),--force) $(if $(filter 1 true yes,$(AUTO_APPROVE)),--auto-approve)
