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

.PHONY: run test test-hw bench build web web-test web-e2e web-bench chromium sysdeps servers deps check-go check-node clean
.PHONY: dist package package-test

# Releases (make dist, make package): the version from git, stamped into
# both binaries (`--version`), and in Debian's form for the packages
# (packaging/debversion.sh).
VERSION     := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DEB_VERSION := $(shell sh packaging/debversion.sh '$(VERSION)')
DIST        := dist
ARCHS       := amd64 arm64
# ARCH: the architecture of make test-hw's VM (amd64 or arm64).
ARCH        ?= amd64
GOLDFLAGS   := -s -w -X main.version=$(VERSION)
# cgo for arm64 from an amd64 Debian machine: Debian's cross compilers,
# and the arm64 ALSA library and headers of the arm64 architecture.
CROSS_arm64 := CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig

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
	@dpkg -s libasound2-dev:$$(dpkg --print-architecture) >/dev/null 2>&1 || { \
		echo "installing libasound2-dev (ALSA headers for MIDI)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libasound2-dev; }

## servers: Debian's redis-server and haproxy, which the relay cluster's
## tests and benchmark start themselves (never as system services)
servers:
	@command -v redis-server >/dev/null && command -v haproxy >/dev/null || { \
		echo "installing redis-server and haproxy (for the relay cluster's tests)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server haproxy; }

## test: every test (Go, race detector, fuzz seeds, socket.io-client
## interop, the jam page's unit tests and its end-to-end tests in
## headless Chromium, installed from Debian's packages when missing)
test: check-go check-node sysdeps servers deps web
	$(GO) vet ./...
	JAMBRIDGE_REQUIRE_SERVERS=1 $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run 'AllocatesNothing' ./relay/ # counted without -race, whose sync.Pool drops items
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
## for the guest, e.g. HWTEST='-test.run JamSession'. ARCH=arm64: the
## same on Debian's arm64 kernel (qemu-system-aarch64). The VM runs the
## binaries of the package of its architecture (make package-ARCH)
test-hw: check-go sysdeps package-$(ARCH)
	GO=$(GO) HWTEST_ARCH=$(ARCH) HWTEST_DEB=$(DIST)/jambridge_$(DEB_VERSION)_$(ARCH).deb bash hwtest/run.sh # make exports HWTEST when given on its command line

## dist: jambridge (cgo, ALSA) and a static jamrelay for linux/amd64 and
## linux/arm64 in dist/linux-ARCH/, version stamped from git (installs
## the arm64 cross compiler and ALSA library when missing)
dist: $(addprefix dist-,$(ARCHS))

# dist-ARCH: one architecture's binaries (not .PHONY: pattern rules are
# not searched for phony targets; no file of that name is ever made).
dist-%: check-go sysdeps crossdeps-% web
	@mkdir -p $(DIST)/linux-$*
	CGO_ENABLED=1 GOOS=linux GOARCH=$* $(CROSS_$*) $(GO) build -trimpath -ldflags '$(GOLDFLAGS)' -o $(DIST)/linux-$*/jambridge ./cmd/jambridge
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags '$(GOLDFLAGS)' -o $(DIST)/linux-$*/jamrelay ./cmd/jamrelay

crossdeps-amd64: ;

## crossdeps-arm64: gcc/g++ for arm64 and the arm64 ALSA library (Debian
## multiarch: dpkg --add-architecture arm64)
crossdeps-arm64:
	@{ command -v aarch64-linux-gnu-g++ >/dev/null && dpkg -s libasound2-dev:arm64 >/dev/null 2>&1; } || { \
		echo "installing g++-aarch64-linux-gnu and libasound2-dev:arm64 (cross builds for the Raspberry Pi)"; \
		$(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross libasound2-dev:arm64 >/dev/null; }

## package: dist/jambridge_VERSION_amd64.deb and _arm64.deb (nfpm, pinned
## in packaging/go.mod; packaging/nfpm.yaml says what goes where)
package: $(addprefix package-,$(ARCHS))

package-%: dist-%
	@mkdir -p $(DIST)/units
	sed 's|/usr/local/bin/jambridge|/usr/bin/jambridge|' configs/jambridge.service >$(DIST)/units/jambridge.service
	cp configs/fluidsynth.service $(DIST)/units/jambridge-fluidsynth.service
	sed 's/$${ARCH}/$*/g' packaging/nfpm.yaml >$(DIST)/nfpm-$*.yaml # nfpm expands no variables in paths
	cd packaging && VERSION='$(DEB_VERSION)' $(GO) tool nfpm package --config ../$(DIST)/nfpm-$*.yaml --packager deb --target ../$(DIST)/jambridge_$(DEB_VERSION)_$*.deb

## package-test: the packages' metadata and contents (dpkg-deb), and the
## amd64 one installed, upgraded over an edited config and purged in a
## throwaway overlay of this machine's root (packaging/test.sh)
package-test: package
	bash packaging/test.sh $(DIST) '$(VERSION)' '$(DEB_VERSION)'

# make test checks the packages too.
test: package-test

## bench: every figure of the README's benchmark tables: relay hot paths,
## jamrelay beside a Node socket.io relay over real sockets (40k/s, 80k/s,
## 10,000 idle members, capacity; syscalls and context switches per
## 1,000 deliveries, counted with perf when it can; each throughput window
## three times, the relays taking turns, the run of median CPU kept; each
## also as two nodes on one Redis, each session split across them), bridge to bridge
## latency through a relay, the idle daemon's memory and CPU, and playout
## through a jitter proxy, and page to page through jamrelay in headless
## Chromium (about 20 minutes in all)
bench: check-node build deps servers
	$(GO) test -run='^$$' -bench=. -benchmem ./relay/ ./mapping/
	$(GO) run ./cmd/jamload --jamrelay $(BIN)/jamrelay --node-relay $(NODE_DIR)/server.js --redis-server $$(command -v redis-server) --scenarios 40x5x50,40x5x100,idle,capacity --idle-conns 10000 --rounds 3
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
	rm -rf $(BIN) $(DIST) $(NODE_DIR)/node_modules web/node_modules web/dist-dev web/test-results
	find web/dist -mindepth 1 ! -name .gitkeep -delete
