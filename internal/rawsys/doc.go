// Package rawsys reads and writes non-blocking sockets with raw system
// calls, for the relay's websockets (relay) and its Redis connections
// (relay/redisbroker): on Linux without telling the Go scheduler
// (RawSyscall). A read or write on a non-blocking descriptor never
// blocks, so there is no thread to hand the goroutine's P to, and the
// scheduler's bookkeeping around a system call (entersyscall,
// exitsyscall, and the wake-up of its monitor thread, which then polls
// every 20 µs while the process is busy) is pure cost: about a tenth of
// the relay's CPU at 40k deliveries/s, and half of a cluster node's
// context switches (README, Benchmarks). A raw call delays a
// collection's stop-the-world by its own few microseconds at most.
// Callers wait for readiness on Go's poller (syscall.RawConn), so
// deadlines and Close work as for net.Conn.
//
// On Linux, Write is a send(2) with MSG_NOSIGNAL: cheaper than write(2)
// on a socket, and no SIGPIPE for a member gone.
//
// ReadInq is Read as a recvmsg(2) that also says whether the socket
// holds more after it (TCP_INQ, set by EnableInq; Linux 4.18): a
// reader parked on Go's edge-triggered poller must not park while it
// does, and with it needs no last read that says EAGAIN.
//
// Ring (Linux 5.19) makes several sends, each on its own socket, in one
// io_uring_enter: one IORING_OP_SEND per socket, MSG_DONTWAIT, so each
// completes inside the call and says what send(2) would. Hand-written
// rather than a library's: the relay needs one opcode and no event loop,
// and a library's enter (iouring-go's is syscall.Syscall6) pays the
// scheduler's bookkeeping that the raw calls above exist to avoid.
//
// # Concurrency
//
// The functions hold no state: each call is its caller's, on a
// descriptor the caller owns for that read or write (the RawConn's
// read or write lock, or its Control for a Ring's sends). A Ring is
// used by one goroutine at a time; its caller pools them.
package rawsys
