# ordergate — make run starts the host; make test runs every test.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/ordergate/ordergate/host/cli.Version=$(VERSION)
# Release builds: no local paths in the binaries (-trimpath), no symbol
# table or DWARF (-s -w; stack traces keep function names and lines), and
# gin without MessagePack, which the API never speaks (nomsgpack). The
# host's binary goes from 65 MB to 40 MB. The e2e tests build their own
# binaries with plain go build.
BUILDFLAGS := -trimpath
TAGS       := nomsgpack
BENCH_OUT ?= bench/latest.txt

.PHONY: all build run test bench fmt lint lint-proto check-files clean plugins proto fuzz test-crash openapi-lint-tools

# Pinned tools of the connector protocol: buf (make proto and make lint)
# and the code generators (make proto), built from the module proxy into
# bin/tools.
BUF_VERSION                := v1.75.0
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
TOOLS                      := $(abspath $(BIN))/tools
BUF                        := $(TOOLS)/buf-$(BUF_VERSION)

# The connector protocol: the buf module (buf.yaml, buf.gen.yaml and
# connector/v1/connector.proto) and the generated Go code beside the
# .proto, which only the sdk's packages can import.
PROTO_DIR := sdk/internal/proto

all: build

build: plugins
	@mkdir -p $(BIN)
	$(GO) build $(BUILDFLAGS) -tags '$(TAGS)' -ldflags "-s -w $(LDFLAGS)" -o $(BIN)/ordergate ./host/cmd/ordergate

# Connectors we ship, one binary each: bin/plugins/ordergate-connector-<name>.
plugins:
	@mkdir -p $(BIN)/plugins
	@for dir in $$(find plugins -mindepth 1 -maxdepth 1 -type d 2>/dev/null); do \
		name=$$(basename $$dir); \
		echo "$(GO) build $(BUILDFLAGS) -ldflags '-s -w' -o $(BIN)/plugins/ordergate-connector-$$name ./$$dir"; \
		$(GO) build $(BUILDFLAGS) -ldflags '-s -w' -o $(BIN)/plugins/ordergate-connector-$$name ./$$dir || exit 1; \
	done

# make run serves with serve's ORDERGATE_ variables: those set in the
# environment (or on make's command line) are used as they are, these are
# the defaults of the others. Any other ORDERGATE_ variable (e.g.
# ORDERGATE_LOG_FORMAT) reaches the host from the environment.
ORDERGATE_ADDR     ?= 127.0.0.1:8080
ORDERGATE_DATA     ?= ./data
ORDERGATE_POLICIES ?= ./policies
ORDERGATE_PLUGINS  ?= ./$(BIN)/plugins

# Unless a secret key is given (ORDERGATE_SECRET_KEY or
# ORDERGATE_SECRET_KEY_FILE), make run seals stored secrets with a
# development key it creates once in the data directory; in production
# keep the key outside the data directory.
ifeq ($(ORDERGATE_SECRET_KEY)$(ORDERGATE_SECRET_KEY_FILE),)
DEV_SECRET_KEY := $(ORDERGATE_DATA)/secret.key
RUN_SECRET_KEY := ORDERGATE_SECRET_KEY_FILE='$(DEV_SECRET_KEY)'
endif

run: build
ifdef DEV_SECRET_KEY
	@mkdir -p '$(ORDERGATE_DATA)' && test -f '$(DEV_SECRET_KEY)' || (umask 077 && $(BIN)/ordergate secret-key > '$(DEV_SECRET_KEY)')
endif
	ORDERGATE_ADDR='$(ORDERGATE_ADDR)' ORDERGATE_DATA='$(ORDERGATE_DATA)' ORDERGATE_POLICIES='$(ORDERGATE_POLICIES)' \
		ORDERGATE_PLUGINS='$(ORDERGATE_PLUGINS)' $(RUN_SECRET_KEY) $(BIN)/ordergate serve

# OPA_VERSION is the OPA release the policies are checked with; keep it the
# version of github.com/open-policy-agent/opa in go.mod.
OPA_VERSION := $(shell $(GO) list -m -f '{{.Version}}' github.com/open-policy-agent/opa)

# Stock opa, built from the module proxy, so the shipped policies are
# checked to need nothing but OPA itself.
$(BIN)/opa-$(OPA_VERSION):
	@mkdir -p $(BIN)
	GOBIN=$(abspath $(BIN))/.opa-$(OPA_VERSION) $(GO) install github.com/open-policy-agent/opa@$(OPA_VERSION)
	mv $(BIN)/.opa-$(OPA_VERSION)/opa $@ && rmdir $(BIN)/.opa-$(OPA_VERSION)

# The Redocly CLI that TestOpenAPILint (host/api) lints the served OpenAPI
# document with: the exact version in package-lock.json, from the npm
# registry (npm ci; node_modules is not committed). Runs again only when
# the package files change.
OPENAPI_LINT := host/api/testdata/openapi-lint

openapi-lint-tools: $(OPENAPI_LINT)/node_modules/.package-lock.json

$(OPENAPI_LINT)/node_modules/.package-lock.json: $(OPENAPI_LINT)/package.json $(OPENAPI_LINT)/package-lock.json
	cd $(OPENAPI_LINT) && npm ci --no-audit --no-fund
	@touch $@

# The whole suite with the race detector, the policy tests (by the host and
# by stock opa), and the lint checks.
test: build lint openapi-lint-tools $(BIN)/opa-$(OPA_VERSION)
	$(BIN)/ordergate policy test -v policies
	$(BIN)/opa-$(OPA_VERSION) test policies
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=50000x

# Fuzz targets (package:target), each seeded from committed fixtures. make
# test runs each for 50,000 inputs (5 to 30 s here); run them longer with
# e.g. make fuzz FUZZTIME=5000000x. The budget is a count of inputs, not a
# duration: with a duration, Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" failure when the time runs out while
# a worker is minimizing an input (golang/go#75804, fixed in Go 1.27).
# A failure leaves its input in the package's testdata/fuzz for go test.
FUZZ_TARGETS := host/api:FuzzDecodeOrder plugins/file:FuzzParseFile plugins/shopify:FuzzMapOrder host/policy:FuzzInput host/stockfile:FuzzParse
FUZZTIME     ?= 1000000x

fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "$(GO) test -run '^$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) ./$$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
	done

# The crash tests with many kills (make test runs them with 20 and 10).
CRASH_KILLS ?= 100

test-crash: build
	ORDERGATE_CRASH_KILLS=$(CRASH_KILLS) $(GO) test -count=1 -v -run 'TestCrashDuringIntake|TestHostKilledMidImport' ./host/cmd/ordergate

# The benchmark suite: every benchmark 6 times (medians, side by side with
# their baselines), then the end-to-end ones once at the issue's sizes
# (100,000 orders through a connector; a database of 1,000,000 orders;
# 64 clients posting for SUSTAINED_DURATION under each of four loads),
# then one table of it all. Takes about 53 minutes on 2 cores: 13 for
# the first three (the million-order benchmark backtests every order:
# about 3.5 of them), 40 for the sustained loads.
BENCHSTAT_VERSION  := v0.0.0-20260908200009-22c9c6c9d4da
BENCH_E2E          := BenchmarkConnectorImport|BenchmarkScale|BenchmarkCopy|BenchmarkSustained
SUSTAINED_DURATION ?= 10m

# BenchmarkDecisionSidecar (host/policy) runs the stock opa binary as the
# OPA server baseline of BenchmarkDecision; ORDERGATE_BENCH_OPA names it.
bench: $(BIN)/opa-$(OPA_VERSION)
	@mkdir -p $(dir $(BENCH_OUT))
	ORDERGATE_BENCH_OPA=$(abspath $(BIN)/opa-$(OPA_VERSION)) $(GO) test -run '^$$' -bench . -skip '$(BENCH_E2E)' -benchmem -count 6 ./... | tee $(BENCH_OUT)
	$(GO) test -run '^$$' -bench ConnectorImport -benchtime 100000x ./host/cmd/ordergate | tee -a $(BENCH_OUT)
	$(GO) test -run '^$$' -bench Scale -benchtime 1000000x -timeout 60m ./host/cmd/ordergate | tee -a $(BENCH_OUT)
	$(GO) test -run '^$$' -bench Copy -benchtime 100000x -timeout 60m ./host/storecopy | tee -a $(BENCH_OUT)
	$(GO) test -run '^$$' -bench Sustained -benchtime 1x -timeout 90m ./host/api -args -sustained-duration=$(SUSTAINED_DURATION) | tee -a $(BENCH_OUT)
	$(GO) run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) $(BENCH_OUT) | tee $(basename $(BENCH_OUT))-table.txt
	@echo "wrote $(BENCH_OUT) and its table; compare two runs with: go run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) OLD NEW"

# buf, built once per machine (about six minutes on 2 cores with a cold Go
# build cache, some 15 s with a warm one) and kept in bin/tools under its
# version.
$(BUF):
	@mkdir -p $(TOOLS)/.buf-$(BUF_VERSION)
	GOBIN=$(TOOLS)/.buf-$(BUF_VERSION) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	mv $(TOOLS)/.buf-$(BUF_VERSION)/buf $@ && rmdir $(TOOLS)/.buf-$(BUF_VERSION)

# Regenerates the Go code of $(PROTO_DIR)/connector/v1 from connector.proto
# (the generated code is committed; CI needs only buf, for make lint).
proto: $(BUF)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	cd $(PROTO_DIR) && $(BUF) lint && PATH="$(TOOLS):$$PATH" $(BUF) generate

# Protocol v1 is frozen: connectors built with any SDK since its release
# must keep working with any host, and connectors in other languages
# generate their code from the same .proto. buf breaking (the FILE rules:
# the wire, the JSON names and the generated code's names) checks
# connector.proto against PROTO_BASELINE, the image of protocol v1 as the
# shipped connectors speak it, committed beside it: the repository has no
# release tags, and a branch as the baseline would move with every merge
# (CI checks a clone of main, against itself). A change the rules refuse
# (a renumbered or retyped field, a removed field, message, enum value or
# RPC) fails make lint; adding fields, messages or RPCs passes. The
# baseline is written only when a protocol version is released, never to
# make a change pass:
#   cd $(PROTO_DIR) && $(BUF) build --exclude-source-info -o connector/v1/v1.binpb
# An incompatible protocol is a new package, connector/v2, served beside v1
# (see sdk/plugin's PluginSets), with a baseline of its own once released.
PROTO_BASELINE := connector/v1/v1.binpb

lint-proto: $(BUF)
	cd $(PROTO_DIR) && $(BUF) lint && $(BUF) breaking --against $(PROTO_BASELINE)

fmt:
	gofmt -w $$(git ls-files '*.go')

# staticcheck is pinned and run from the module proxy (no install step).
STATICCHECK_VERSION := v0.8.2

lint: check-files lint-proto
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Build outputs must not be committed: check-files (run by make lint) fails
# on any file in the index that is an executable (an ELF, Mach-O or Windows
# binary, or a file with the executable bit that is not a #! script such as
# .ci/run) or larger than MAX_FILE_SIZE, and lists them. Binaries belong in
# bin/, which is ignored.
MAX_FILE_SIZE := 5242880

check-files:
	@empty=$$(git hash-object -t tree /dev/null); \
	bad=$$( { \
		git ls-files -s | awk -F'\t' '{ split($$1, a, " ") } a[1] ~ /^100(644|755)$$/ { print a[2], $$2 }' | \
			git cat-file --batch-check='%(objectsize) %(rest)' | \
			awk -v max=$(MAX_FILE_SIZE) '$$1 > max { n = $$1; sub(/^[0-9]+ /, ""); printf "%s\t%d bytes, over %d\n", $$0, n, max }'; \
		{ git diff --cached --numstat "$$empty" | awk -F'\t' '$$1 == "-" { print $$3 }'; \
			git ls-files -s | awk -F'\t' '/^100755 / { print $$2 }'; } | sort -u | \
		while IFS= read -r path; do \
			magic=$$(git cat-file blob ":$$path" | head -c 4 | od -An -tx1 | tr -d ' \n'); \
			case $$magic in \
			7f454c46) printf '%s\tELF executable\n' "$$path";; \
			cffaedfe|cefaedfe|feedfacf|feedface|cafebabe) printf '%s\tMach-O executable\n' "$$path";; \
			4d5a*) printf '%s\tWindows executable\n' "$$path";; \
			2321*) ;; \
			*) if git ls-files -s -- "$$path" | grep -q '^100755 '; then printf '%s\texecutable bit, not a #! script\n' "$$path"; fi;; \
			esac; \
		done; \
	} | sort | awk -F'\t' '$$1 == p { r = r ", " $$2; next } p != "" { print "  " p ": " r } { p = $$1; r = $$2 } END { if (p != "") print "  " p ": " r }'); \
	if [ -n "$$bad" ]; then echo "committed build outputs or large files (git rm them; build into bin/):"; echo "$$bad"; exit 1; fi

clean:
	rm -rf $(BIN)
