//go:build hwtest

package hwtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

const configfs = "/sys/kernel/config"

// gadget is an emulated USB MIDI device: a configfs gadget with the MIDI
// function on one of dummy_hcd's device controllers, which the USB host
// side of the same kernel enumerates like any USB device, for
// snd-usb-audio to make it an ALSA card named after the product. The
// gadget's own side is an ALSA card too (id gadgetID): what amidi plays
// into it, the host side receives over USB, as from a keyboard's keys,
// and what the host sends to the device can be read there.
type gadget struct {
	dir      string
	product  string // the host side's card id and sequencer client name
	gadgetID string // the gadget side's card id
	udc      string // the device controller it plugs into
	plugged  bool
}

// newGadget configures a gadget, unplugged.
func newGadget(t *testing.T, name, product, gadgetID, udc string) *gadget {
	t.Helper()
	g := &gadget{dir: filepath.Join(configfs, "usb_gadget", name), product: product, gadgetID: gadgetID, udc: udc}
	for _, d := range []string{"strings/0x409", "configs/c.1", "functions/midi.usb0"} {
		if err := os.MkdirAll(filepath.Join(g.dir, d), 0o755); err != nil {
			t.Fatalf("USB gadget %s: %v", name, err)
		}
	}
	for _, kv := range [][2]string{
		{"idVendor", "0x1d6b"}, {"idProduct", "0x0104"},
		{"strings/0x409/manufacturer", "jambridge"}, {"strings/0x409/product", product},
		{"strings/0x409/serialnumber", "0001"}, {"functions/midi.usb0/id", gadgetID},
	} {
		g.write(t, kv[0], kv[1])
	}
	if err := os.Symlink(filepath.Join(g.dir, "functions/midi.usb0"), filepath.Join(g.dir, "configs/c.1/midi.usb0")); err != nil {
		t.Fatalf("USB gadget %s: %v", name, err)
	}
	return g
}

func (g *gadget) write(t *testing.T, file, val string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(g.dir, file), []byte(val), 0o644); err != nil {
		t.Fatalf("USB gadget: %v", err)
	}
}

// plug binds the gadget to its controller: the cable goes in. It returns
// when the host side's ALSA card exists.
func (g *gadget) plug(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("/sys/class/udc", g.udc)); err != nil {
		t.Fatalf("USB gadget: no device controller %s (is dummy_hcd loaded?)", g.udc)
	}
	g.write(t, "UDC", g.udc)
	g.plugged = true
	waitCard(t, g.product, true)
}

// unplug unbinds it: the cable comes out.
func (g *gadget) unplug(t *testing.T) {
	t.Helper()
	g.write(t, "UDC", "\n")
	g.plugged = false
	waitCard(t, g.product, false)
}

// listen reads what the host sends the device: what its own synth would
// sound.
func (g *gadget) listen(t *testing.T) *dump {
	t.Helper()
	return startDump(t, waitCard(t, g.gadgetID, true), 0)
}

// keys is the raw device to play into: the gadget's side of the cable.
func (g *gadget) keys(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("hw:%d,0", waitCard(t, g.gadgetID, true))
}

// keyboard is the emulated USB MIDI keyboard, "FakeUSBMIDI", on the first
// device controller.
type keyboard = gadget

// usbKeyboard returns the keyboard, configuring it (unplugged) the first
// time. There is one: the gadget's configfs directory.
func usbKeyboard(t *testing.T) *keyboard {
	t.Helper()
	if theKeyboard == nil {
		theKeyboard = newGadget(t, "kbd", "FakeUSBMIDI", "fmidi", "dummy_udc.0")
	}
	return theKeyboard
}

var theKeyboard *keyboard
