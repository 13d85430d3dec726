package relay

// PartialWrites counts direct writes the kernel took only part of, whose
// tail the writer sent: the tests check that path is exercised.
func PartialWrites(s *Server) uint64 { return s.stats.partial.Load() }

// QueuedPackets counts packets that went through a send queue rather
// than a direct write.
func QueuedPackets(s *Server) uint64 { return s.stats.queued.Load() }

// PollPending reports whether the long-polling session eid has a GET
// pending, so a test can act once the relay holds it.
func PollPending(s *Server, eid string) bool {
	sock := s.lookup(eid)
	if sock == nil {
		return false
	}
	sock.mu.Lock()
	defer sock.mu.Unlock()
	return sock.polling
}

// QueuedBytes returns the most bytes any connection's send queue holds
// now, and the total dropped from all of them.
func QueuedBytes(s *Server) (most int, dropped uint64) {
	s.mu.Lock()
	socks := make([]*socket, 0, len(s.sockets))
	for _, sock := range s.sockets {
		socks = append(socks, sock)
	}
	s.mu.Unlock()
	for _, sock := range socks {
		sock.w.mu.Lock()
		most = max(most, sock.w.q.bytes)
		dropped += sock.w.q.dropped
		sock.w.mu.Unlock()
	}
	return most, dropped
}

// BlockingReads counts the turns serving websocket readers took on the
// blocking path: the tests check what is served inside RawConn.Read.
func BlockingReads(s *Server) uint64 { return s.stats.blockingReads.Load() }

// MaskedFrame is a client's masked websocket frame.
var MaskedFrame = frame
