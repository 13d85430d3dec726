// Command jamload is the relay benchmark the README quotes. It measures
// jamrelay (the Go relay) and the reference Node Socket.IO relay in the
// same invocation, side by side, on the same machine.
//
// For every scenario and every relay it starts a fresh relay process on
// a free loopback port, waits until it accepts connections, runs the
// scenario against it, and stops it (SIGTERM, then SIGKILL after 3 s).
//
// # Throughput scenarios (NxMxR)
//
// N sessions of M members; every member sends R events per second and
// receives the other members' events, so the relay owes N*M*(M-1)*R
// deliveries per second. Each event is a realistic drum_hit or
// piano_note (120 to 135 bytes of payload, sent with seq) whose payload
// also carries the sender's index, a per-sender counter and the send
// time in unix nanoseconds. Receivers run on the same machine and clock:
// a delivery's latency is the time the kernel queued it on the
// receiver's socket (SO_TIMESTAMPNS; on loopback usually inside the
// relay's send) minus its send time, so the generator's wait to run its
// reader is not charged to the relay, except that a read stamps all it
// takes with its last segment's time (a backlog at the reader still
// shows); "p99 at reader" is the same to the generator's read. A
// delivery without a stamp, or with one outside send..read, is charged
// up to the read, and counted. After a warmup, a measurement
// window of --duration opens; latency percentiles cover every event sent
// inside the window, deliveries/s counts events received inside it.
// When the window closes the senders stop and the generator waits for
// the last events (at most 3 s); lost is what every sender's counter says
// was owed minus what arrived, over the whole run. Reordered counts a
// sender's counter going backwards at a receiver. The relay's CPU time
// (utime+stime from /proc/PID/stat) over the window gives CPU per 100k
// deliveries; its VmRSS is read at the end of the window. The
// generator's own CPU and the rest of the host's are reported too, so a
// reader can tell whether the generator or a noisy neighbour was the
// bottleneck.
//
// The relay's context switches (summed over /proc/PID/task/*/status over
// the window) and system calls give both per 1,000 deliveries. System
// calls are counted by `perf stat -e raw_syscalls:sys_enter -p PID` over
// the middle half of the warm-up, under the same load, when perf may
// attach: its tracepoint costs the traced relay 3-4 % of its CPU, which
// must not be in the window's figures. Else they are the reads and
// writes of /proc/PID/task/*/io over the window; the table says which.
//
// # Capacity scenario
//
// "capacity" runs 40 sessions of 5 at a rate raised step by step, 1.6k to
// 160k deliveries/s, each step a --capacity-window, until p99 passes
// 10 ms, an event is lost or less is delivered than offered; then it
// bisects between the last step that passed and the first that failed
// (a few more steps) until the two are within 10 %. Each step is a vote
// of up to three windows: it passes when most of them kept within the
// limits, and fails at once on any loss; a single window's p99 on a
// shared host swings with scheduling hiccups. The relays' searches take
// turns window by window, each on its own process started for the whole
// scenario (the others wait idle meanwhile), so that the host's drift
// over those minutes reaches them alike. A relay's capacity is its
// highest step that passed, printed with the lowest step that failed and
// every window's p99 (capacity.go, capacity_turns.go).
//
// # Idle scenario
//
// --idle-conns connections, each a member of a session of five, opened
// 64 at a time; after 3 s the relay's RSS growth divided by the
// connections gives KB per idle connection, and its CPU is measured for
// 3 s more. The connections answer pings meanwhile.
//
// # The generator
//
// It must cost less than the relay it measures, on the same cores. A
// hand-written Engine.IO 4 / Socket.IO 5 client (client.go) over its own
// minimal websocket client (wsconn.go, wsframe.go; transport=websocket,
// no extension): no event is JSON decoded on the receive path, only the
// three measured numbers are read from the raw bytes, in place in the
// connection's receive buffer. Each connection's reader stays in one
// syscall.RawConn read callback for the whole run: one read(2) brings
// every frame waiting in the socket, and after a read that emptied it
// the reader waits for the poller instead of reading again to find it
// empty (gorilla's reader made two reads per delivery). All frames of
// one read are stamped with one time.Now, taken right after it.
//
// One sender per core (sender.go) writes for its share of the members:
// a heap of their next ticks and one timer, instead of a goroutine and a
// ticker per member. Every member keeps its own random phase within the
// period, so sends stay spread as independent players' would. Writes
// never block: a socket that does not take an event whole keeps the rest
// pending; a tick that finds it still pending, or that the sender reached
// late, is skipped and counted as a generator stall, never sent late in
// a burst.
//
// --gen-procs (default 1) is the generator's GOMAXPROCS, not inherited
// by the relays. On one thread it wakes far less often than on two (the
// Go scheduler no longer hands ready readers from one thread to the
// other): about a quarter less CPU per delivery at 40k/s, and the other
// core is the relay's. A generator short of CPU shows as stalls.
//
// --gen-cpus (default auto: the last CPU, on a host with two or more)
// confines every thread of the generator to those CPUs, and each relay
// process (and a cluster's Redis) is started allowed on every CPU
// jamload could use, the generator's included (cpus_linux.go: the fork
// is made from a thread set to the relays' CPUs for the moment). Left
// free, the generator's thread lands now on one CPU, now on the other,
// and takes it from whichever relay thread was there: a relay on one
// thread (Node) loses the most. Confined, it is closer to load coming
// from other machines: the relay has a CPU the generator never takes,
// and the rest of the other. Empty: nothing pinned. perf stat, which
// counts a relay's system calls over the warm-up, runs where the
// generator does.
//
// # A shared host
//
// Other processes can take the CPU in the middle of a window. jamload
// waits for a quiet host before each run, samples the host's CPU every
// half second during the window, and runs a window again (--retries)
// when other processes used more than a quarter of a core on average or
// more than 60% of one in any half second; the least disturbed run is
// kept, and one still disturbed is flagged in a note. Waiting and
// re-running together take at most --noise-wait over the whole run. The "other CPU"
// column shows that average and peak; --cpuprofile profiles the
// generator.
//
// # Concurrency
//
// run's goroutine owns the bench and runs one scenario at a time. A
// throughput run has a reader goroutine per connection and a sender per
// core, started by runThroughput and waited for before it returns: the
// senders stop when the window closes (their last writes bounded by
// writerWait), the readers when the connections are closed after the
// drain. A reader only flags the pongs its connection owes; the sender
// writes them. The members' counters are merged by collect once all of
// them have returned; the drain reads one atomic counter per member. The
// idle scenario has one goroutine per connection answering pings,
// stopped by closing the connections. Connection setup runs
// setupParallel workers that connectSessions waits for.
//
// # Output
//
// A table per scenario, a ratio row, and a list of targets marked PASS
// or MISS. The exit status is 0 whatever the numbers; it is 1 only when
// the benchmark could not run.
package main
