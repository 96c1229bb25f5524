# The two commands of a fresh machine: `make run` (the demo) and `make test`.
SHELL     := /bin/bash
GO        ?= go
COVER_MIN ?= 85

.PHONY: all generate check-generated check-compat test test-compat vet fmt-check tidy-check lint run run-auth bench chaos deadletters fuzz

all: test

## generate: refresh sdk/events from catalog/ and schemas/
generate:
	$(GO) generate ./...

## check-generated: fail when sdk/events is stale; also validates every catalog example
check-generated:
	$(GO) run ./cmd/eventgen generate --check
	$(GO) run ./cmd/eventgen docs --check
	$(GO) run ./cmd/eventgen asyncapi --check
	$(GO) run ./cmd/eventgen auth --out catalog/nats-auth.conf --check
	$(GO) run ./cmd/eventgen history --check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## tidy-check: fail when go.mod or go.sum is not what `go mod tidy` makes
tidy-check:
	$(GO) mod tidy -diff

lint: fmt-check tidy-check vet

## test: what CI runs
test: check-generated lint
	@set -o pipefail; $(GO) test -race -count=1 -cover ./... 2>&1 | tee /tmp/giia-test.txt
	@echo "coverage gate: $(COVER_MIN)% for sdk/bus, sdk/outbox, sdk/payload, sdk/spec and every package under cmd/eventgen/internal"
	@awk -v min=$(COVER_MIN) ' \
		$$1 == "ok" && ($$2 ~ /\/sdk\/(bus|outbox|payload|spec)$$/ || $$2 ~ /\/cmd\/eventgen\/internal\//) { \
			seen[$$2] = 1; \
			for (i = 1; i <= NF; i++) if ($$i == "coverage:") { pct = $$(i+1); sub("%", "", pct); \
				status = (pct + 0 < min) ? "FAIL" : "ok"; if (status == "FAIL") bad = 1; \
				printf "  %-4s %s %s%%\n", status, $$2, pct } } \
		$$1 == "?" && ($$2 ~ /\/sdk\/(bus|outbox|payload|spec)$$/ || $$2 ~ /\/cmd\/eventgen\/internal\//) { printf "  FAIL %s has no tests\n", $$2; bad = 1 } \
		END { n = split("bus outbox payload spec", pkgs, " "); for (i = 1; i <= n; i++) if (!seen["github.com/giia/events/sdk/" pkgs[i]]) { print "  FAIL sdk/" pkgs[i] " has no coverage figure"; bad = 1 } exit bad }' /tmp/giia-test.txt

## check-compat: fail on a breaking change of catalog/ or schemas/ against COMPAT_BASE (a git ref or a checkout's folder)
COMPAT_BASE ?= main
check-compat:
	$(GO) run ./cmd/eventgen check --against $(COMPAT_BASE)

## deadletters: list dead letters (ARGS="replay SEQ" or ARGS="replay --all" to replay; NATS_URL picks the server)
deadletters:
	$(GO) run ./cmd/deadletters $(or $(ARGS),list)

## fuzz: the fuzz targets of envelope and payload decoding, FUZZTIME each
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./sdk/bus -run '^$$' -fuzz '^FuzzDecodeEnvelope$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sdk/events -run '^$$' -fuzz '^FuzzParsePayloads$$' -fuzztime $(FUZZTIME)

## bench: the SDK against raw nats.go, validators, latencies, outbox drain (ARGS=--quick for a smoke run)
bench:
	$(GO) run ./cmd/bench $(ARGS)

## chaos: the fault suite (broker outages, a 3-node cluster losing nodes, crashed services, poison); name: value figures per scenario
chaos:
	$(GO) run ./cmd/chaos $(ARGS)

## run: the demo: embedded NATS with JetStream, both services, the replenishment loop
run:
	$(GO) run ./cmd/demo $(ARGS)

## run-auth: the demo on a server under the generated catalog/nats-auth.conf, each service as its own user
run-auth:
	$(GO) run ./cmd/demo --auth $(ARGS)

## test-compat: the integration tests against Debian's nats-server (2.9)
test-compat:
	@command -v nats-server >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nats-server >/dev/null)
	@nats-server --version
	@dir=$$(mktemp -d); \
	nats-server -js -a 127.0.0.1 -p -1 -sd $$dir >$$dir/server.log 2>&1 & pid=$$!; \
	trap "kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf $$dir" EXIT; \
	url=; for i in $$(seq 100); do \
		grep -q "Server is ready" $$dir/server.log && url=$$(sed -n 's|.*Listening for client connections on \([0-9.]*:[0-9]*\).*|nats://\1|p' $$dir/server.log) && break; \
		kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
	if [ -z "$$url" ]; then echo "nats-server did not start:"; cat $$dir/server.log; exit 1; fi; \
	NATS_TEST_URL=$$url $(GO) test -count=1 ./sdk/... || { echo "--- nats-server log:"; tail -n 50 $$dir/server.log; exit 1; }
