# Frontdesk: `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
CONFIG ?= configs/example.yaml
BIN := bin/frontdesk
# Debian packages the server needs at run time and the tests need on top.
RUN_DEBS := pkg-config libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev libespeak-ng-dev libwebrtc-audio-processing-dev libopus-dev
TEST_DEBS := sox redis-server curl espeak-ng flite sphinxbase-utils chromium
FUZZTIME ?= 30s
SOAK_CALLS ?= 200
SOAK_DURATION ?= 30m
SOAK_CALL_DURATION ?= 60s

.DEFAULT_GOAL := help
.PHONY: help deps test-deps build run test bench fuzz lint soak load ramp clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

# install-debs installs the missing packages among $(1) when root, else
# prints the exact apt-get line and fails.
define install-debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get install -y --no-install-recommends $$missing || (apt-get update && apt-get install -y --no-install-recommends $$missing)) >/dev/null; \
	  else echo "missing Debian packages; run: sudo apt-get install -y$$missing"; exit 1; fi; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required: https://go.dev/dl/ (Debian 12's golang is too old)"; exit 1; }
endef

deps: ## install the Debian packages the server needs (as root)
	$(call install-debs,$(RUN_DEBS))

test-deps: ## install the Debian packages the tests need (as root)
	$(call install-debs,$(RUN_DEBS) $(TEST_DEBS))

build: deps ## build bin/frontdesk
	$(GO) build -o $(BIN) ./cmd/frontdesk

run: build ## build and start the server on $(CONFIG)
	./$(BIN) serve -config $(CONFIG)

test: test-deps ## run every test (race detector on)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

bench: test-deps ## run every benchmark
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

load: build test-deps ## 500 concurrent echo calls against a local server (see docs/performance.md)
	./scripts/load.sh echo -calls 500 -duration 30s

ramp: build test-deps ## echo and full-agent calls side by side, growing until frames come late; the knee of each
	./scripts/ramp.sh

soak: build test-deps ## $(SOAK_CALLS) echo calls kept up for $(SOAK_DURATION): memory growth, goroutines after, gaps, lost frames
	./scripts/load.sh echo -soak $(SOAK_DURATION) -calls $(SOAK_CALLS) -duration $(SOAK_CALL_DURATION) -sample 60s

clean: ## remove build output
	rm -rf bin
