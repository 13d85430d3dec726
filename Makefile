# jambridge: the two commands of the README's quick start are `make run`
# and `make test`; both install what they need on Debian/Ubuntu.

GO        ?= go
NODE_DIR  := relay/testdata/node
NODE_DEPS := $(NODE_DIR)/node_modules/.package-lock.json
BIN       := bin

# Debian/Ubuntu: apt-get as root, through sudo otherwise.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-hw bench build sysdeps deps check-go check-node clean

## run: jambridge on its embedded defaults: host a new session on :3001
## and bridge every MIDI device found (or say there is no MIDI system)
run: build
	$(BIN)/jambridge run

## build: jambridge (cgo, ALSA) and a static jamrelay (no cgo) into bin/
build: check-go sysdeps
	$(GO) build -o $(BIN)/jambridge ./cmd/jambridge
	CGO_ENABLED=0 $(GO) build -o $(BIN)/jamrelay ./cmd/jamrelay

## sysdeps: the ALSA headers rtmidi builds against
sysdeps:
	@dpkg -s libasound2-dev >/dev/null 2>&1 || { \
		echo "installing libasound2-dev (ALSA headers for MIDI)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libasound2-dev; }

## test: every test (Go, race detector, fuzz seeds, socket.io-client interop)
test: check-go check-node sysdeps deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## test-hw: jambridge against a real ALSA sequencer, virmidi ports and an
## emulated USB MIDI keyboard, in a qemu VM booted from Debian's kernel
## (installs qemu, busybox-static, alsa-utils and a kernel image when
## missing; skips with a message where it cannot). HWTEST: go test flags
## for the guest, e.g. HWTEST='-test.run JamSession'
test-hw: check-go sysdeps
	GO=$(GO) bash hwtest/run.sh # make exports HWTEST when given on its command line

## bench: every figure of the README's benchmark tables: relay hot paths,
## jamrelay beside a Node socket.io relay over real sockets, bridge to
## bridge latency through a relay, the idle daemon's memory and CPU, and
## playout through a jitter proxy (about 8 minutes in all)
bench: check-node build deps
	$(GO) test -run='^$$' -bench=. -benchmem ./relay/ ./mapping/
	$(GO) run ./cmd/jamload --jamrelay $(BIN)/jamrelay --node-relay $(NODE_DIR)/server.js
	$(GO) test -run='^$$' -bench='EndToEnd|IdleDaemon|JitterPlayout' -benchtime=1x -timeout=30m ./cmd/jambridge/

## deps: the npm packages of the interop tests and the Node reference relay
deps: check-node $(NODE_DEPS)

$(NODE_DEPS): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

check-go:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 or later from https://go.dev/dl/"; exit 1; }

check-node:
	@command -v node >/dev/null || { echo "Node.js is missing: the interop tests need Node 18 or later (apt-get install nodejs npm)"; exit 1; }

clean:
	rm -rf $(BIN) $(NODE_DIR)/node_modules
