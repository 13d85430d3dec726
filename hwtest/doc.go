// Package hwtest runs jambridge against a real ALSA sequencer, virmidi
// ports and an emulated USB MIDI keyboard, inside a virtual machine
// booted from Debian's kernel. Its tests carry the build tag hwtest and
// run only in that VM: `make test-hw` (hwtest/run.sh) builds the image,
// boots it and checks the result.
package hwtest
