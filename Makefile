# Two commands do all set-up on a fresh machine: `make synth` and `make test` (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PIPENV_VERSION := 2025.0.4
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export CHECKPOINT_DISABLE := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# `make sandbox` and `make plan` use the `sandbox` environment (terraform-state-config/sandbox.json:
# one source of each provider) unless ENVIRONMENT_SUFFIX was given on the command line or in the
# environment. Decided before the default below, which makes the variable defined in this file.
SANDBOX_ENVIRONMENT := $(if $(filter environment command line override,$(origin ENVIRONMENT_SUFFIX)),$(ENVIRONMENT_SUFFIX),sandbox)
export ENVIRONMENT_SUFFIX ?= dev
PIPENV := $(PYTHON) -m pipenv
VENV_PY := .venv/bin/python

.PHONY: help install tools synth test test-fast lint verify sandbox plan bench cost load

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.venv/.synced: Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	@start=$$(date +%s); echo "==> pipenv sync --dev (Pipfile.lock)"; \
	  bin/with-heartbeat "pipenv sync" install.log $(PIPENV) sync --dev || { tail -30 install.log; echo "pipenv sync failed (above, all in install.log): check python3 is 3.11 and PyPI is reachable, then run make install again" >&2; exit 1; }; \
	  echo "$$(( $$(date +%s) - start ))" >.venv/.install-seconds; \
	  echo "    Python environment ready in $$(( $$(date +%s) - start )) s"
	@touch $@

node_modules/.installed: package-lock.json
	@start=$$(date +%s); echo "==> npm ci (cdktf-cli 0.21.0)"; \
	  bin/with-heartbeat "npm ci" npm-install.log npm ci --no-audit --no-fund --loglevel=error || { tail -30 npm-install.log; echo "npm ci failed (above, all in npm-install.log): check Node >= 20 and the npm registry, then run make install again" >&2; exit 1; }; \
	  echo "$$(( $$(date +%s) - start ))" >node_modules/.install-seconds; \
	  echo "    Node packages ready in $$(( $$(date +%s) - start )) s"
	@touch $@

# checkov pins an old boto3: in the Pipfile it would downgrade the project's, so it gets its own venv.
.tool-venvs/checkov/.installed: security/checkov-requirements.txt
	@start=$$(date +%s); echo "==> checkov tool venv (security/checkov-requirements.txt)"; \
	  rm -rf .tool-venvs/checkov && $(PYTHON) -m venv .tool-venvs/checkov; \
	  .tool-venvs/checkov/bin/pip install --quiet --disable-pip-version-check --no-deps -r $< \
	    >.tool-venvs/checkov-install.log 2>&1 || { tail -30 .tool-venvs/checkov-install.log; echo "checkov install failed (log: .tool-venvs/checkov-install.log): check PyPI access, then run make tools" >&2; exit 1; }; \
	  echo "$$(( $$(date +%s) - start ))" >.tool-venvs/checkov/.install-seconds; \
	  echo "    checkov $$(.tool-venvs/checkov/bin/checkov --version) ready in $$(( $$(date +%s) - start )) s"
	@touch $@

install: .venv/.synced node_modules/.installed ## Install the pinned Python and Node dependencies

tools: .tool-venvs/checkov/.installed ## Install checkov in its own pinned venv (make test and make verify do)

SYNTH_OUT ?= cdktf.out
SYNTH_ARGS ?=
# The CLI straight from node_modules: `npx` would add an npm process (~80 MB, ~1 s) to every synth.
CDKTF_CLI ?= node_modules/.bin/cdktf
synth: install ## Synthesize both stacks for ENVIRONMENT_SUFFIX into cdktf.out/ (or SYNTH_OUT)
	@start=$$(date +%s); echo "==> cdktf synth (ENVIRONMENT_SUFFIX=$(ENVIRONMENT_SUFFIX))"; \
	  $(CDKTF_CLI) synth --output $(SYNTH_OUT) $(SYNTH_ARGS) >/dev/null 2>synth.log || { cat synth.log; echo "synth failed: the error is above (also in synth.log); fix it and run make synth again" >&2; exit 1; }; \
	  counts=$$(for stack in $(SYNTH_OUT)/stacks/*/; do \
	    printf '%s %s resources, ' "$$(basename $$stack)" "$$($(VENV_PY) -c 'import json,sys; print(sum(len(v) for v in json.load(open(sys.argv[1])).get("resource", {}).values()))' $$stack/cdk.tf.json)"; done); \
	  echo "    $(SYNTH_OUT)/stacks/: $${counts%, } ($$(( $$(date +%s) - start )) s). Next: make sandbox, or deploy (README, Deploying to AWS)"

lint: install ## ruff check and format check
	@$(VENV_PY) -m ruff check .
	@$(VENV_PY) -m ruff format --check .

test: install tools lint ## Run the whole test suite, the sandbox integration suite included (~9 min)
	@PIPELINE_SANDBOX=1 $(VENV_PY) -m pytest

test-fast: install tools lint ## Everything but the sandbox integration suite (~5 min)
	@$(VENV_PY) -m pytest --ignore=tests/integration

verify: install tools lint ## Static checks: checkov + allowlist, IAM review, guards, actionlint (part of make test)
	@$(VENV_PY) -m pytest tests/static -m static -p no:cacheprovider

bench: install ## Measure everything in docs/PERFORMANCE.md (~12 min; after make synth); writes bench-results.json
	@$(VENV_PY) -m benchmarks $(BENCH_ARGS)

EVENTS ?= 10000000
PAYLOAD_BYTES ?= 2048
cost: install ## Monthly AWS cost for EVENTS per month of PAYLOAD_BYTES (defaults 10000000, 2048)
	@$(VENV_PY) -m pipeline_tools cost --events-per-month $(EVENTS) --payload-bytes $(PAYLOAD_BYTES)

# e.g. LOAD_ARGS="--count 200 --throttle 0.5" (a share of the table's PutItems throttled during the run)
LOAD_ARGS ?= --count 500 --rate 100 --burst 50 --concurrency 16
load: install ## Bursts of signed deliveries from 4 sources through the running sandbox: accepted, refused, lost, duplicated
	@ENVIRONMENT_SUFFIX=$(SANDBOX_ENVIRONMENT) $(VENV_PY) -m pipeline_tools load $(LOAD_ARGS)

# e.g. SANDBOX_ARGS=--no-synth (apply a copy of what the last make synth left in cdktf.out/)
SANDBOX_ARGS ?=
sandbox: install ## Deploy the stack (ENVIRONMENT_SUFFIX, default sandbox) to a local emulator and serve it until Ctrl-C (~2 min to ready)
	@ENVIRONMENT_SUFFIX=$(SANDBOX_ENVIRONMENT) $(VENV_PY) -m pipeline_tools sandbox $(SANDBOX_ARGS)

plan: install ## terraform plan of the current code against the running sandbox, reviewed by review-plan (~1 min)
	@ENVIRONMENT_SUFFIX=$(SANDBOX_ENVIRONMENT) $(VENV_PY) -m pipeline_tools plan --sandbox
