package mapping_test

import (
	"fmt"

	"github.com/jambridge/jambridge/mapping"
	"gitlab.com/gomidi/midi/v2"
)

// A keyboard plays C4 for a quarter second; a drum pad on channel 10 hits
// the snare. The time is passed in, in unix milliseconds.
func ExampleInput_FromMIDI() {
	in, err := mapping.NewInput(mapping.DefaultInputRule())
	if err != nil {
		panic(err)
	}
	for _, m := range []struct {
		msg midi.Message
		now float64
	}{
		{midi.NoteOn(0, 60, 90), 1000},
		{midi.NoteOn(9, 38, 110), 1100},
		{midi.NoteOff(9, 38), 1150}, // drums have no release
		{midi.NoteOff(0, 60), 1250},
	} {
		if e, ok := in.FromMIDI(m.msg, m.now); ok {
			payload, _ := e.Payload()
			fmt.Println(e.Kind, string(payload))
		}
	}
	// Output:
	// piano_note {"note":"C4","velocity":90,"timestamp":1000,"midi":60,"channel":1}
	// drum_hit {"note":"snare","velocity":110,"timestamp":1100,"midi":38,"channel":10}
	// piano_note {"note":"C4","velocity":0,"timestamp":1250,"duration":250,"midi":60,"channel":1}
}

// A browser sends a drum hit by name only; the bridge plays it on a kit
// whose closed hi-hat is key 22.
func ExampleOutputRule_ToMIDI() {
	e, err := mapping.ParseEvent("drum_hit", []byte(`{"note":"hihat","velocity":100,"timestamp":1634567890123}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Note, e.MIDI)

	out := mapping.DefaultOutputRule()
	out.DrumMap = map[string]int{"hihat_closed": 22}
	msgs, err := out.ToMIDI(e)
	if err != nil {
		panic(err)
	}
	off, _ := out.NoteOff(e) // the caller sends it a moment later
	fmt.Println(msgs[0])
	fmt.Println(off)
	// Output:
	// hihat 42
	// NoteOn channel: 9 key: 22 velocity: 100
	// NoteOff channel: 9 key: 22
}

func ExampleNoteName() {
	fmt.Println(mapping.NoteName(60), mapping.NoteName(0), mapping.NoteName(127))
	key, _ := mapping.ParseNote("Eb3")
	drum, _ := mapping.DrumName(38)
	fmt.Println(key, drum)
	// Output:
	// C4 C-1 G9
	// 51 snare
}

func ExampleParseCurve() {
	soft, _ := mapping.ParseCurve("soft")
	fixed, _ := mapping.ParseCurve("fixed:100")
	for _, v := range []int{0, 1, 32, 64, 127} {
		fmt.Println(v, soft.Apply(v), fixed.Apply(v))
	}
	// Output:
	// 0 0 0
	// 1 7 100
	// 32 56 100
	// 64 84 100
	// 127 127 100
}
