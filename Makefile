# k8s_ee.platform — the two commands a fresh machine needs are `make demo` and `make test`.
# Everything else is installed by these targets: a virtualenv from the pinned requirements,
# the Kubernetes control plane built from the Go modules (cached in ~/.cache/k8s-ee).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
export K8S_EE_CACHE ?= $(HOME)/.cache/k8s-ee
REQ_HASH := $(shell cat tests/requirements.txt tests/constraints.txt | sha256sum | cut -c1-12)
VENV := $(K8S_EE_CACHE)/venv-$(REQ_HASH)
BIN := $(VENV)/bin
BUILD := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/k8s_ee/platform
CLUSTER_DIR := $(BUILD)/cluster
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(K8S_EE_CACHE)/tools-actionlint-$(ACTIONLINT_VERSION)/actionlint
# PromQL and rule checker of the observability tests (Prometheus' own parser, tests/tools/promcheck).
PROMCHECK_VERSION := v0.316.0
PROMCHECK_SRC := tests/tools/promcheck
# The cache is shared by every checkout on the machine: the folder is named by the source's hash, so checkouts with
# different promcheck sources never use each other's binary.
PROMCHECK_HASH := $(shell cat $(PROMCHECK_SRC)/main.go $(PROMCHECK_SRC)/go.mod $(PROMCHECK_SRC)/go.sum | sha256sum | cut -c1-12)
PROMCHECK := $(K8S_EE_CACHE)/tools-promcheck-$(PROMCHECK_VERSION)-$(PROMCHECK_HASH)/promcheck

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/tests/ansible.cfg
export PYTHONPATH := $(COLLECTIONS)

.PHONY: help
help:
	@echo "make demo          start the local cluster, bring a sample environment up, show it, tear it down"
	@echo "make test          lint, sanity, unit and integration tests (what CI runs)"
	@echo "make lint | sanity | unit | integration | benchmark | floors"
	@echo "make cluster-up | cluster-down   the local Kubernetes on loopback (KUBECONFIG=$(CLUSTER_DIR)/kubeconfig)"

# ---------------------------------------------------------------- set-up

$(VENV)/.complete:
	@command -v go >/dev/null || { echo "Go is required to build the local Kubernetes (go 1.24 or newer)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/requirements.txt -c tests/constraints.txt
	touch $@

.PHONY: venv
venv: $(VENV)/.complete $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

.PHONY: schema role-docs
schema:
	$(PYTHON) hack/sync_schema.py

role-docs: venv
	$(BIN)/python hack/role_docs.py

# ---------------------------------------------------------------- local cluster

.PHONY: cluster-build cluster-up cluster-down
# As root, the images the integration tests build from Debian packages alone (the real node's, molecule's) are built
# beside the Go builds: debootstrap waits mostly on the package mirror and the disk, the compiler on the CPUs. A
# failure there is only reported: the tests build what is missing again, and say why it fails. The components (Traefik,
# Pebble, the operators, ...) are built beside Kubernetes: each Go build leaves a CPU idle while it links.
# COMPONENTS: which of tests/cluster/components.py to build (default all; the demo needs no observability stack).
COMPONENTS ?=
DEMO_COMPONENTS := kube-router coredns local-path-provisioner cloudnative-pg traefik pebble
cluster-build: venv
	@mkdir -p $(BUILD); pids=""; \
	if [ "$$(id -u)" = 0 ]; then \
	  $(BIN)/python tests/cluster/realnode.py prebuild > $(BUILD)/prebuild-node-images.log 2>&1 & pids="$$!"; \
	  { extensions/molecule/prepare-host.sh && extensions/molecule/build-image.sh; } \
	    > $(BUILD)/prebuild-molecule-image.log 2>&1 & pids="$$pids $$!"; \
	fi; \
	$(BIN)/python tests/cluster/components.py build $(COMPONENTS) > $(BUILD)/build-components.log 2>&1 & components=$$!; \
	$(BIN)/python tests/cluster/localcluster.py build; rc=$$?; \
	wait $$components || rc=1; echo "==== components (built beside Kubernetes)"; cat $(BUILD)/build-components.log; \
	for pid in $$pids; do wait $$pid || echo "prebuilding an image failed (the tests retry): $(BUILD)/prebuild-*.log"; done; \
	exit $$rc

cluster-up: venv
	$(BIN)/python tests/cluster/localcluster.py up --dir $(CLUSTER_DIR)
	@echo "export KUBECONFIG=$(CLUSTER_DIR)/kubeconfig"

cluster-down: venv
	$(BIN)/python tests/cluster/localcluster.py down --dir $(CLUSTER_DIR)

# ---------------------------------------------------------------- demo

.PHONY: demo
demo: venv
	$(MAKE) cluster-build COMPONENTS="$(DEMO_COMPONENTS)"
	$(BIN)/python hack/demo.py --cluster-dir $(BUILD)/demo-cluster

# ---------------------------------------------------------------- tests

.PHONY: test lint sanity unit integration
test: lint sanity unit integration

$(ACTIONLINT):
	GOBIN=$(dir $(ACTIONLINT)) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(PROMCHECK): $(PROMCHECK_SRC)/main.go $(PROMCHECK_SRC)/go.mod $(PROMCHECK_SRC)/go.sum
	mkdir -p $(dir $@)
	cd $(PROMCHECK_SRC) && go build -o $@ .

.PHONY: promcheck
promcheck: $(PROMCHECK)

.PHONY: shellcheck
shellcheck:
	@command -v shellcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }

lint: venv $(ACTIONLINT) shellcheck
	$(BIN)/python hack/sync_schema.py --check
	$(BIN)/python hack/role_docs.py --check
	$(ACTIONLINT) -shellcheck=shellcheck examples/github/workflows/*.yml examples/forgejo/.forgejo/workflows/*.yml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --offline --strict

sanity: venv
	$(BIN)/python hack/sanity.py

# Narrow a run while working: make integration INTEGRATION_TESTS="tests/integration/test_platform.py -k scope"
UNIT_TESTS ?= tests/unit
INTEGRATION_TESTS ?= tests/integration

unit: venv $(PROMCHECK)
	$(BIN)/pytest $(UNIT_TESTS)

# The whole suite runs, in a second pytest beside the others, the tests that have their own machinery and mostly wait:
# the real node's (their own cluster, containers starting) and molecule's (systemd containers under podman); their
# report follows. Either pytest failing fails the target.
BESIDE_TESTS := tests/integration/test_real_node.py tests/integration/test_real_observability.py \
	tests/integration/test_molecule.py tests/integration/test_molecule_server.py

integration: venv cluster-build $(PROMCHECK)
ifeq ($(INTEGRATION_TESTS),tests/integration)
	@mkdir -p $(BUILD); beside=0; rest=0; \
	$(BIN)/pytest --durations=15 $(BESIDE_TESTS) > $(BUILD)/beside-tests.log 2>&1 & pid=$$!; \
	$(BIN)/pytest --durations=15 tests/integration $(addprefix --ignore=,$(BESIDE_TESTS)) || rest=$$?; \
	wait $$pid || beside=$$?; \
	echo "==== $(BESIDE_TESTS) (ran beside the others; exit $$beside)"; cat $(BUILD)/beside-tests.log; \
	exit $$(( rest || beside ))
else
	$(BIN)/pytest --durations=15 $(INTEGRATION_TESTS)
endif

# The plugins' unit tests with every declared floor installed (requirements.txt, requires_ansible); not in `test`.
.PHONY: floors
floors: venv
	$(BIN)/python hack/floors.py

.PHONY: benchmark
benchmark: venv cluster-build
	$(BIN)/python benchmarks/run.py

.PHONY: clean
clean: cluster-down
	rm -rf $(BUILD)
