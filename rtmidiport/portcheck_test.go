package rtmidiport

import (
	"errors"
	"strings"
	"testing"

	"gitlab.com/gomidi/midi/v2/drivers"
)

// portList is the ALSA port list as rtmidi reads it; plug runs inside
// Open, as a device plugged in between the listing and the Open would.
type portList struct {
	names []string
	plug  func(*portList)
}

func (l *portList) PortName(i int) (string, error) {
	if i >= len(l.names) {
		return "", errors.New("invalid port number")
	}
	return l.names[i], nil
}

// listedPort is a port as listed: its name and position then.
type listedPort struct {
	drivers.Port
	list   *portList
	number int
	name   string
	open   bool
}

func (p *listedPort) Open() error {
	if p.list.plug != nil {
		p.list.plug(p.list)
	}
	p.open = true
	return nil
}
func (p *listedPort) Close() error    { p.open = false; return nil }
func (p *listedPort) Number() int     { return p.number }
func (p *listedPort) String() string  { return p.name }
func (p *listedPort) Underlying() any { return p.list }

func TestOpenCheckedKeepsThePortStillAtItsPosition(t *testing.T) {
	list := &portList{names: []string{"Midi Through:Midi Through Port-0 14:0", "Keystation 49:Keystation 49 MIDI 1 20:0"}}
	p := &listedPort{list: list, number: 1, name: list.names[1]}
	if err := openChecked(p); err != nil {
		t.Fatalf("openChecked: %v", err)
	}
	if !p.open {
		t.Error("the port was closed although it is the one listed")
	}
}

// A drum pad plugged in between the listing and the Open takes the
// keyboard's position: the port opened there is closed, with a sentence
// that names both.
func TestOpenCheckedRefusesAPortThatMoved(t *testing.T) {
	list := &portList{names: []string{"Midi Through:Midi Through Port-0 14:0", "Keystation 49:Keystation 49 MIDI 1 20:0"}}
	list.plug = func(l *portList) {
		l.names = []string{l.names[0], "nanoPAD2:nanoPAD2 MIDI 1 24:0", l.names[1]}
	}
	p := &listedPort{list: list, number: 1, name: list.names[1]}
	err := openChecked(p)
	if err == nil {
		t.Fatal("openChecked kept the drum pad opened in place of the keyboard")
	}
	if p.open {
		t.Error("the wrong port was left open")
	}
	for _, want := range []string{"Keystation 49", "nanoPAD2", "moved"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A device unplugged leaves fewer ports than the position: closed too.
func TestOpenCheckedRefusesAPositionThatIsGone(t *testing.T) {
	list := &portList{names: []string{"Midi Through:Midi Through Port-0 14:0", "Keystation 49:Keystation 49 MIDI 1 20:0"}}
	list.plug = func(l *portList) { l.names = l.names[:1] }
	p := &listedPort{list: list, number: 1, name: list.names[1]}
	if err := openChecked(p); err == nil || p.open {
		t.Fatalf("openChecked on a vanished position: err %v, open %v; want an error and the port closed", err, p.open)
	}
}

// The wrappers the System lists run the check.
func TestHardwarePortsOpenChecked(t *testing.T) {
	list := &portList{names: []string{"a"}, plug: func(l *portList) { l.names = []string{"b"} }}
	in := &listedPort{list: list, name: "a"}
	if err := (hardwareIn{fakeOpenIn{in}}).Open(); err == nil {
		t.Error("hardwareIn.Open kept a moved port")
	}
	list.names = []string{"a"}
	out := &listedPort{list: list, name: "a"}
	if err := (hardwareOut{fakeOpenOut{out}}).Open(); err == nil {
		t.Error("hardwareOut.Open kept a moved port")
	}
}

type fakeOpenIn struct{ *listedPort }

func (fakeOpenIn) Listen(func([]byte, int32), drivers.ListenConfig) (func(), error) {
	return func() {}, nil
}

type fakeOpenOut struct{ *listedPort }

func (fakeOpenOut) Send([]byte) error { return nil }
