# jambridge: the two commands of the README's quick start are `make run`
# and `make test`; both install what they need on Debian/Ubuntu.

GO        ?= go
NODE_DIR  := relay/testdata/node
NODE_DEPS := $(NODE_DIR)/node_modules/.package-lock.json
BIN       := bin
# The jam page (web/): its npm packages, its sources and the built assets
# the Go binaries embed.
WEB_DEPS  := web/node_modules/.package-lock.json
WEB_SRC   := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/package.json
WEB_DIST  := web/dist/index.html
CHROMIUM  := /usr/bin/chromium

# Debian/Ubuntu: apt-get as root, through sudo otherwise.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-hw bench build web web-test web-e2e web-bench chromium sysdeps deps check-go check-node clean

## run: jambridge on its embedded defaults: host a new session on :3001
## and bridge every MIDI device found (or say there is no MIDI system)
run: build
	$(BIN)/jambridge run

## build: the jam page, then jambridge (cgo, ALSA) and a static jamrelay
## (no cgo) into bin/, both embedding the page
build: check-go sysdeps web
	$(GO) build -o $(BIN)/jambridge ./cmd/jambridge
	CGO_ENABLED=0 $(GO) build -o $(BIN)/jamrelay ./cmd/jamrelay

## sysdeps: the ALSA headers rtmidi builds against
sysdeps:
	@dpkg -s libasound2-dev >/dev/null 2>&1 || { \
		echo "installing libasound2-dev (ALSA headers for MIDI)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libasound2-dev; }

## test: every test (Go, race detector, fuzz seeds, socket.io-client
## interop, the jam page's unit tests and its end-to-end tests in
## headless Chromium, installed from Debian's packages when missing)
test: check-go check-node sysdeps deps web
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) web-test web-e2e

## web: the jam page's assets in web/dist (npm ci, type check, Vite)
web: $(WEB_DIST)

$(WEB_DIST): $(WEB_DEPS) $(WEB_SRC)
	cd web && npm run build --silent

$(WEB_DEPS): web/package.json web/package-lock.json | check-node
	cd web && npm ci --no-audit --no-fund --loglevel=error

## web-test: the jam page's unit tests (Vitest)
web-test: $(WEB_DEPS)
	cd web && npx vitest run

## web-e2e: the jam page in headless Chromium against the relay and a Go
## bridge (the development build too, for React's StrictMode double mount)
web-e2e: check-go $(WEB_DIST) chromium
	cd web && npm run build:dev --silent
	$(GO) test -tags browser -count=1 -timeout 15m ./web/e2e/

## chromium: Debian's Chromium for the browser tests (never a downloaded one)
chromium:
	@[ -x $(CHROMIUM) ] || { \
		echo "installing chromium (Debian's, for the jam page's browser tests)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## web-bench: page to page through jamrelay in headless Chromium, 500 notes
web-bench: build chromium
	cd web && node e2e/bench.mjs --jamrelay ../$(BIN)/jamrelay --notes 500

## test-hw: jambridge against a real ALSA sequencer, virmidi ports and an
## emulated USB MIDI keyboard, in a qemu VM booted from Debian's kernel
## (installs qemu, busybox-static, alsa-utils and a kernel image when
## missing; skips with a message where it cannot). HWTEST: go test flags
## for the guest, e.g. HWTEST='-test.run JamSession'
test-hw: check-go sysdeps
	GO=$(GO) bash hwtest/run.sh # make exports HWTEST when given on its command line

## bench: every figure of the README's benchmark tables: relay hot paths,
## jamrelay beside a Node socket.io relay over real sockets (40k/s, 80k/s,
## 10,000 idle members, capacity; syscalls and context switches per
## 1,000 deliveries, counted with perf when it can), bridge to
## bridge latency through a relay, the idle daemon's memory and CPU, and
## playout through a jitter proxy, and page to page through jamrelay in
## headless Chromium (about 12 minutes in all)
bench: check-node build deps
	$(GO) test -run='^$$' -bench=. -benchmem ./relay/ ./mapping/
	$(GO) run ./cmd/jamload --jamrelay $(BIN)/jamrelay --node-relay $(NODE_DIR)/server.js --scenarios 40x5x50,40x5x100,idle,capacity --idle-conns 10000
	$(GO) test -run='^$$' -bench='EndToEnd|IdleDaemon|JitterPlayout' -benchtime=1x -timeout=30m ./cmd/jambridge/
	$(MAKE) web-bench

## deps: the npm packages of the interop tests and the Node reference relay
deps: check-node $(NODE_DEPS)

$(NODE_DEPS): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

check-go:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 or later from https://go.dev/dl/"; exit 1; }

check-node:
	@command -v node >/dev/null || { echo "Node.js is missing: the jam page and the interop tests need Node 20.19 or later (https://nodejs.org, or apt-get install nodejs npm on Debian 13)"; exit 1; }
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || { \
		echo "Node.js $$(node --version) is too old: the jam page's build (Vite) needs 20.19 or later"; exit 1; }

clean:
	rm -rf $(BIN) $(NODE_DIR)/node_modules web/node_modules web/dist-dev web/test-results
	find web/dist -mindepth 1 ! -name .gitkeep -delete
