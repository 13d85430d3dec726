package relay

// Every test of the package runs with relayed packets overwritten once
// handled: a reference kept past the handling (a queue that did not
// copy, a publisher) delivers garbage, which the tests' checks of what
// members receive catch.
func init() { scribbleRelayBuffers = true }
