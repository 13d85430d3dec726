// Package redistest starts a real redis-server for tests: on a free
// port of 127.0.0.1, without persistence, so a restart comes back empty.
//
// Under `make test` (JAMBRIDGE_REQUIRE_SERVERS=1) a missing redis-server
// fails the test; a plain `go test` without it skips, saying so.
//
// # Concurrency
//
// A Server is used from its test's goroutine; Stop and Start must not
// run concurrently. The redis-server process is the only thing started,
// and Cleanup kills and waits for it (a goroutine of its own waits for the
// process, so Start sees it exit at once).
package redistest
