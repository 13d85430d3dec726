// Package wstest builds websocket frames (RFC 6455 5.2) byte by byte for
// tests: a client's masked frames for the relay's serving reader and
// scanner, a relay's unmasked frames for jamload's frame parser. It is
// the tests' own reference, written independently of the encoders they
// test.
//
// # Concurrency
//
// Frame holds no state: call it from any goroutine.
package wstest
