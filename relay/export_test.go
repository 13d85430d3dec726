package relay

// PartialWrites counts direct writes the kernel took only part of, whose
// tail the writer sent: the tests check that path is exercised.
func PartialWrites(s *Server) uint64 { return s.stats.partial.Load() }

// QueuedPackets counts packets that went through a send queue rather
// than a direct write.
func QueuedPackets(s *Server) uint64 { return s.stats.queued.Load() }
