// Package hwtest runs jambridge against a real ALSA sequencer, virmidi
// ports and an emulated USB MIDI keyboard, inside a virtual machine
// booted from Debian's kernel. Its tests carry the build tag hwtest and
// run only in that VM: `make test-hw` (hwtest/run.sh) builds the image,
// boots it and checks the result.
//
// Concurrency: the tests run one at a time (no t.Parallel: they share
// the machine's sequencer, cards and the keyboard). Each program a test
// starts (proc) has a goroutine reading its output, which ends when the
// program has exited; the test's cleanup stops the program and waits for
// it. Each raw MIDI reader (dump) has a goroutine that ends when its
// device is closed; the cleanup closes it and waits.
package hwtest
