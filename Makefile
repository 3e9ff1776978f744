# mhm: make demo runs the pipeline on an embedded default, make test runs the tests.
GO      ?= go
BIN     := bin
PKGS    := ./...

.PHONY: all build test test-race bench lint demo clean tidy

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

test:
	$(GO) vet $(PKGS)
	$(GO) test -shuffle=on -timeout 15m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	@cp go.mod /tmp/mhm.go.mod.bak; cp go.sum /tmp/mhm.go.sum.bak 2>/dev/null || true; \
	$(GO) mod tidy; \
	if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changed go.mod/go.sum"; git diff -- go.mod go.sum; exit 1; fi

demo: build
	$(BIN)/mhm demo

clean:
	rm -rf $(BIN)
