# The two commands of the README quickstart, and a few helpers.
GO      ?= go
FUZZTIME ?= 15s
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run test build generate fmt vet fuzz lint

## run: start the server with built-in defaults (127.0.0.1:8001, SQLite state under ./data)
run:
	$(GO) run ./cmd/server $(ARGS)

## test: every test, with the race detector (needs PostgreSQL, see README)
test:
	$(GO) test -race -count=1 -timeout 45m ./...

## fuzz: run every go test -fuzz target for FUZZTIME each (default 15s), e.g. make fuzz FUZZTIME=20s
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

## lint: staticcheck and govulncheck (both pinned as go tool dependencies in go.mod)
lint:
	$(GO) tool staticcheck ./...
	.ci/vulncheck

## build: a static, reproducible binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/iceberg-remotes ./cmd/server

## generate: regenerate code from api/openapi.yaml and the lakeFS spec
generate:
	$(GO) generate ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...
