# Flotilla's build. `make help` lists the targets.
#
# Everything the tests need is built here from the Go module proxy into bin/: the
# pinned Pulumi CLI, the fleetsim provider plugin, the local Kubernetes control plane
# and the Pulumi Kubernetes provider plugin. Third-party tools are built from modules of
# their own under tools/, so their dependency graphs never touch the main go.mod.

SHELL := /bin/bash
.DEFAULT_GOAL := all

BIN := $(CURDIR)/bin
export FLOTILLA_BIN := $(BIN)
export PATH := $(BIN):$(PATH)
export GOFLAGS ?= -buildvcs=false

PULUMI_VERSION := v3.274.1
# The Kubernetes release behind every simulated cluster: pinned here and in tools/kube/go.mod.
K8S_VERSION := v1.37.2
KWOK_VERSION := v0.8.0
TEST_TIMEOUT ?= 75m
TEST_FLAGS ?=

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: all
all: pulumi plugins kube ## Build everything the tests and the deploy program need into bin/.

.PHONY: pulumi
pulumi: ## Build the pinned Pulumi CLI into bin/pulumi (skipped when that exact version is present).
	@PULUMI_VERSION=$(PULUMI_VERSION) BIN=$(BIN) tools/scripts/build-pulumi.sh

# Flotilla's own binaries are built with the flags the Pulumi Go language host uses
# (-trimpath -ldflags "-w -s"): one compile of the cloud SDKs then serves both `make`
# and `pulumi up -s <stack>`, and the binaries are stripped.
GO_BUILD_FLAGS := -trimpath -ldflags "-w -s"

.PHONY: plugins
plugins: ## Build Flotilla's own binaries into bin/: flotilla, stack and the fleetsim provider plugin.
	@mkdir -p $(BIN)
	@echo "==> building flotilla, stack and pulumi-resource-fleetsim into bin/"
	@start=$$(date +%s); go build $(GO_BUILD_FLAGS) -o $(BIN)/ ./cmd/... && \
	  echo "==> built in $$(( $$(date +%s) - start ))s: $$(cd $(BIN) && du -sh flotilla stack pulumi-resource-fleetsim | awk '{printf "%s %s  ", $$2, $$1}')"

.PHONY: kube
kube: ## Build the local Kubernetes control plane, kwok and the Kubernetes provider plugin into bin/.
	@K8S_VERSION=$(K8S_VERSION) KWOK_VERSION=$(KWOK_VERSION) BIN=$(BIN) tools/scripts/build-kube.sh

.PHONY: test
test: all ## Build what the tests need, then run go vet and every test (the end-to-end ones included).
	@echo "==> go vet ./..."
	@go vet ./...
	@echo "==> go test ./... (end-to-end tests run the real Pulumi CLI and local control planes)"
	@go test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

.PHONY: lint
lint: ## Run golangci-lint with .golangci.yml.
	@if [ ! -x $(BIN)/golangci-lint ]; then echo "==> building golangci-lint into bin/"; cd tools && go build -o $(BIN)/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint; fi
	@$(BIN)/golangci-lint run ./...

.PHONY: bench
bench: all ## Run the benchmarks: components, control planes, and the deploy program's rollouts against the critical path.
	@go test -run '^$$' -bench . -benchmem -timeout 60m ./...

.PHONY: soak
soak: all ## The long fault loops: many kill points of a rollout, each resumed to completion.
	@FLOTILLA_SOAK=1 go test -count=1 -timeout 120m -run 'Kill|Soak' -v ./automation/e2e/

.PHONY: run
run: all ## The main job: roll the shipped stacks out on the local simulator (real control planes), dev -> staging -> prod.
	@echo "==> rolling the shipped stacks out on the local simulator; state in .flotilla/ (file:// backend)"
	@echo "==> prod requires approval: this run approves it explicitly with --approve prod"
	@$(BIN)/flotilla rollout --sim --approve prod --project $(CURDIR)

# The simulator's home under the project; its daemon and control planes run detached.
SIM_HOME := $(CURDIR)/.flotilla/fleetsim

.PHONY: sim-stop
sim-stop: ## Stop the simulator's daemon and every control plane it started (their data stays).
	@if [ -x $(BIN)/flotilla ]; then $(BIN)/flotilla sim stop --home $(SIM_HOME) || true; fi
	@tools/scripts/sim-stop.sh $(SIM_HOME)

.PHONY: clean
clean: sim-stop ## Stop the simulator, then remove bin/ and local state under .flotilla/.
	@rm -rf $(BIN) .flotilla
