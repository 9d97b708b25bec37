# streamlake: the two commands a new machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/streamlake
PKGS    := ./...
RACE_PKGS := ./internal/ingest/ ./internal/stage/ ./internal/broker/

.PHONY: all build demo test test-deps vet bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/streamlake

# Runs the whole pipeline on embedded defaults (broker, local storage, SQLite
# catalog, DuckDB) and prints real SQL results.
demo: build
	./$(BIN) demo --data-dir ./streamlake-data

# Installs what the tests need (kcat, a Kafka client nobody here wrote), then
# runs every test, and the race detector on the concurrent packages.
test: test-deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 15m $(PKGS)
	$(GO) test -count=1 -race -timeout 10m $(RACE_PKGS)

test-deps:
	@command -v kcat >/dev/null 2>&1 || { \
		echo "installing kcat (apt-get install -y kcat)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get install -y kcat >/dev/null 2>&1 || \
		{ $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y kcat >/dev/null; }; \
	}
	@command -v kcat >/dev/null 2>&1 || { echo "kcat is required by the interop tests and could not be installed"; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeLine -fuzztime 30s ./internal/stage/
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 30s ./internal/config/

clean:
	rm -rf bin streamlake-data
