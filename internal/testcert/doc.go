// Package testcert makes TLS certificates for tests: a private CA and
// leaf certificates it signs, as PEM, in memory or in files. It is for
// tests only; nothing it makes is meant to be trusted outside one.
//
// # Concurrency
//
// A CA is safe for concurrent use once made: Leaf only reads it.
package testcert
