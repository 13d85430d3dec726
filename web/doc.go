// Package web serves the jam page: the React + TypeScript application
// under web/src, built by Vite into web/dist and embedded into the Go
// binaries with go:embed, so jamrelay and jambridge serve it with no Node
// at run time (jamrelay stays a static binary).
//
// Handler answers GET and HEAD: "/" is the landing page and "/jam" and
// "/jam/CODE" are the session view, all served by index.html (the page
// routes on the client); the hashed files under /assets/ are cached for
// a year as immutable; index.html is revalidated every time (no-cache).
// Every answer carries a content security policy that allows only what
// the page uses: scripts, styles and connections to its own origin
// (connect-src 'self' covers the relay's websocket on the same origin).
//
// Built without the assets (a fresh clone: web/dist holds only its
// placeholder), the package still compiles and the handler serves a short
// page saying how to build them.
//
// Mount Handler at "/" beside the relay's /socket.io/ (which stays the
// relay's own route), /healthz and /metrics.
//
// # Concurrency
//
// A Handler is immutable once built (the embedded files, the index and
// its ETag are read at construction) and safe for concurrent use.
package web
