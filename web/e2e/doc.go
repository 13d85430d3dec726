// Package e2e holds the jam page's end-to-end tests: real headless
// Chromium (Debian's chromium, driven by playwright-core from the node
// scripts beside this file) against the real relay, with the page served
// by package web, and a Go participant: a bridge on a fake MIDI system.
//
// The Go test (build tag browser, run by `make test` after the page is
// built) starts the relay, the page and the bridge in-process, then runs
// `node --test` on the scripts here, which drive the browser and reach
// the bridge through a small control API under /e2e/ on the same server.
//
// # Concurrency
//
// The test owns every goroutine it starts: the HTTP server, the bridge
// and its session are stopped and waited for in t.Cleanup. The control
// handlers only touch the fake MIDI ports, which are safe for concurrent
// use.
package e2e
