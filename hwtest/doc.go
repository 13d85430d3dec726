// Package hwtest runs jambridge against a real ALSA sequencer, virtual
// MIDI cables and an emulated USB MIDI keyboard, inside a virtual machine
// booted from Debian's kernel (amd64, or arm64 under qemu's -machine
// virt), with the binaries of the Debian package. Its VM tests carry the
// build tag hwtest and run only in that VM: `make test-hw [ARCH=arm64]`
// (hwtest/run.sh) builds the image, boots it and checks the result. The
// cables are snd-virmidi ports where the kernel has them and USB MIDI
// gadgets where it does not (Debian's arm64 kernel); the amd64 VM also
// plays into FluidSynth and finds the notes in the audio it renders. The
// audio helpers (wav_test.go) carry no tag: their tests run everywhere.
//
// Concurrency: the tests run one at a time (no t.Parallel: they share
// the machine's sequencer, cards, gadgets and the keyboard). Each program
// a test starts (proc) has a goroutine reading its output, which ends
// when the program has exited, and one waiting for the program; a
// program given an input (FluidSynth's shell) exits when the test closes
// that input. The test's cleanup stops each program and waits for it.
// Each raw MIDI reader (dump) has a goroutine that ends when its device
// is closed; the cleanup closes it and waits.
package hwtest
