# jambridge: the two commands of the README's quick start are `make run`
# and `make test`; both install what they need on Debian/Ubuntu.

GO        ?= go
NODE_DIR  := relay/testdata/node
NODE_DEPS := $(NODE_DIR)/node_modules/.package-lock.json
BIN       := bin

.PHONY: run test bench build deps check-tools clean

## run: the relay on :3001 with its embedded defaults
run: build
	$(BIN)/jamrelay

## build: static jamrelay (no cgo) into bin/
build: check-tools
	CGO_ENABLED=0 $(GO) build -o $(BIN)/jamrelay ./cmd/jamrelay

## test: every test (Go, race detector, fuzz seeds, socket.io-client interop)
test: check-tools deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## bench: benchmarks over real sockets, jamrelay beside a Node socket.io relay
bench: build deps
	$(GO) test -run='^$$' -bench=. -benchmem ./relay/ ./mapping/
	$(GO) run ./cmd/jamload --jamrelay $(BIN)/jamrelay --node-relay $(NODE_DIR)/server.js

## deps: the npm packages of the interop tests and the Node reference relay
deps: $(NODE_DEPS)

$(NODE_DEPS): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

check-tools:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 or later from https://go.dev/dl/"; exit 1; }
	@command -v node >/dev/null || { echo "Node.js is missing: install Node 18 or later (apt-get install nodejs npm)"; exit 1; }

clean:
	rm -rf $(BIN) $(NODE_DIR)/node_modules
