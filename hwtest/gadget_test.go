//go:build hwtest

package hwtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

const configfs = "/sys/kernel/config"

// keyboard is an emulated USB MIDI keyboard: a configfs gadget with the
// MIDI function on dummy_hcd's device controller, which the USB host
// side of the same kernel enumerates like any USB device, for
// snd-usb-audio to make it an ALSA card. The gadget's own side is an
// ALSA card too ("fmidi"): what amidi plays into it, the host side
// receives over USB, as from a keyboard's keys.
type keyboard struct {
	dir     string
	product string
	plugged bool
}

// usbKeyboard returns the keyboard, configuring the gadget (unplugged)
// the first time. There is one: the gadget's configfs directory.
func usbKeyboard(t *testing.T) *keyboard {
	t.Helper()
	if theKeyboard != nil {
		return theKeyboard
	}
	k := &keyboard{dir: filepath.Join(configfs, "usb_gadget", "kbd"), product: "FakeUSBMIDI"}
	for _, d := range []string{"strings/0x409", "configs/c.1", "functions/midi.usb0"} {
		if err := os.MkdirAll(filepath.Join(k.dir, d), 0o755); err != nil {
			t.Fatalf("USB gadget: %v", err)
		}
	}
	for file, val := range map[string]string{
		"idVendor": "0x1d6b", "idProduct": "0x0104",
		"strings/0x409/manufacturer": "jambridge", "strings/0x409/product": k.product,
		"strings/0x409/serialnumber": "0001",
	} {
		k.write(t, file, val)
	}
	if err := os.Symlink(filepath.Join(k.dir, "functions/midi.usb0"), filepath.Join(k.dir, "configs/c.1/midi.usb0")); err != nil {
		t.Fatalf("USB gadget: %v", err)
	}
	theKeyboard = k
	return k
}

var theKeyboard *keyboard

func (k *keyboard) write(t *testing.T, file, val string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(k.dir, file), []byte(val), 0o644); err != nil {
		t.Fatalf("USB gadget: %v", err)
	}
}

// plug binds the gadget to the controller: the cable goes in. It returns
// when the host side's ALSA card exists.
func (k *keyboard) plug(t *testing.T) {
	t.Helper()
	udcs, _ := filepath.Glob("/sys/class/udc/*")
	if len(udcs) == 0 {
		t.Fatal("USB gadget: no device controller (is dummy_hcd loaded?)")
	}
	k.write(t, "UDC", filepath.Base(udcs[0]))
	k.plugged = true
	waitCard(t, k.product, true)
}

// unplug unbinds it: the cable comes out.
func (k *keyboard) unplug(t *testing.T) {
	t.Helper()
	k.write(t, "UDC", "\n")
	k.plugged = false
	waitCard(t, k.product, false)
}

// listen reads what the host sends the keyboard: what its own synth
// would sound.
func (k *keyboard) listen(t *testing.T) *dump {
	t.Helper()
	return startDump(t, waitCard(t, "fmidi", true), 0)
}

// keys is the raw device to play into: the gadget's side of the cable.
func (k *keyboard) keys(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("hw:%d,0", waitCard(t, "fmidi", true))
}
