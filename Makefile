# streamlake: the two commands a new machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/streamlake
PKGS    := ./...
RACE_PKGS := ./internal/ingest/ ./internal/stage/ ./internal/broker/ ./internal/monitor/ ./internal/catalog/ ./internal/crawl/layout/ ./internal/query/ ./internal/query/filecache/ ./internal/server/

.PHONY: all build demo test test-deps vet lint bench fuzz soak clean

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

# kcat, the AWS CLI, PostgreSQL and Prometheus (apt), and versitygw, a real S3
# server (go install): the clients and servers nobody here wrote that the
# tests run against.
VERSITYGW := $(shell $(GO) env GOPATH)/bin/versitygw
test-deps:
	@missing=; command -v kcat >/dev/null 2>&1 || missing="$$missing kcat"; \
	[ -x /usr/bin/aws ] || missing="$$missing awscli"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/prometheus ] || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (apt-get)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get install -y $$missing >/dev/null 2>&1 || \
		{ $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y $$missing >/dev/null; }; \
	fi
	@command -v kcat >/dev/null 2>&1 || { echo "kcat is required by the interop tests and could not be installed"; exit 1; }
	@[ -x /usr/bin/aws ] || { echo "the AWS CLI (/usr/bin/aws) is required by the S3 tests and could not be installed"; exit 1; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "PostgreSQL is required by the catalog conformance tests and could not be installed"; exit 1; }
	@[ -x /usr/bin/prometheus ] || { echo "Prometheus is required by the scrape test and could not be installed"; exit 1; }
	@[ -x "$(VERSITYGW)" ] || command -v versitygw >/dev/null 2>&1 || { \
		echo "installing versitygw v1.8.0 (go install, a few minutes the first time)"; \
		$(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0; }

# gofmt, go vet and staticcheck (installed by go install at a pinned version).
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck
lint:
	@test -z "$$(gofmt -l cmd internal)" || { gofmt -l cmd internal; exit 1; }
	$(GO) vet $(PKGS)
	@[ -x "$(STATICCHECK)" ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	$(GO) test -run '^$$' -bench . -benchtime 1x ./cmd/streamlake/

# 20 minutes at 2,000 records/s with 2 s commits and scheduled compaction
# (issue 4's acceptance): exact counts, <= 2 files per day partition,
# identical results before and after compaction.
soak: build
	scripts/soak.sh 20 2000

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeLine$$' -fuzztime 30s ./internal/stage/
	$(GO) test -run '^$$' -fuzz '^FuzzScanLine$$' -fuzztime 30s ./internal/stage/
	$(GO) test -run '^$$' -fuzz '^FuzzFastRow$$' -fuzztime 30s ./internal/etl/
	$(GO) test -run '^$$' -fuzz '^FuzzPlainString$$' -fuzztime 30s ./internal/etl/
	$(GO) test -run '^$$' -fuzz '^FuzzDecimalFloat$$' -fuzztime 30s ./internal/etl/
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 30s ./internal/config/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 30s ./internal/schema/
	$(GO) test -run '^$$' -fuzz '^FuzzParseTimestamp$$' -fuzztime 30s ./internal/schema/
	$(GO) test -run '^$$' -fuzz '^FuzzFits$$' -fuzztime 30s ./internal/schema/
	$(GO) test -run '^$$' -fuzz '^FuzzInfer$$' -fuzztime 30s ./internal/schema/
	$(GO) test -run '^$$' -fuzz '^FuzzFileName$$' -fuzztime 30s ./internal/schema/
	$(GO) test -run '^$$' -fuzz '^FuzzSniffCSV$$' -fuzztime 30s ./internal/crawl/classify/
	$(GO) test -run '^$$' -fuzz '^FuzzJSONRecords$$' -fuzztime 30s ./internal/crawl/classify/
	$(GO) test -run '^$$' -fuzz '^FuzzCompileGlob$$' -fuzztime 30s ./internal/crawl/layout/
	$(GO) test -run '^$$' -fuzz '^FuzzParseFilter$$' -fuzztime 30s ./internal/catalog/
	$(GO) test -run '^$$' -fuzz '^FuzzExpr$$' -fuzztime 30s ./internal/etl/tables/
	$(GO) test -run '^$$' -fuzz '^FuzzScrub$$' -fuzztime 30s ./internal/etl/tables/
	$(GO) test -run '^$$' -fuzz '^FuzzParsers$$' -fuzztime 30s ./internal/query/
	$(GO) test -run '^$$' -fuzz '^FuzzArrowType$$' -fuzztime 30s ./internal/query/
	$(GO) test -run '^$$' -fuzz '^FuzzAvroConversion$$' -fuzztime 30s ./internal/query/
	$(GO) test -run '^$$' -fuzz '^FuzzRewriteAthena$$' -fuzztime 30s ./internal/query/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 30s ./internal/registry/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeProtobuf$$' -fuzztime 30s ./internal/registry/

clean:
	rm -rf bin streamlake-data
