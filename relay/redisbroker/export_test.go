package redisbroker

// Reassertions counts the node's re-assertions (Broker.epoch): the tests
// wait on it to know a node handled an outage, as Up alone may still be
// the Up of before the outage, not yet noticed.
func (b *Broker) Reassertions() uint64 { return b.epoch.Load() }
