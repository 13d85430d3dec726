package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
	"gitlab.com/gomidi/midi/v2/drivers"

	"github.com/jambridge/jambridge/rtmidiport"
)

func portsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ports",
		Usage: "list the MIDI input and output ports",
		Action: func(c *cli.Context) error {
			m := rtmidiport.New()
			defer m.Close()
			return listPorts(c.App.Writer, m)
		},
	}
}

// listPorts prints the numbered ports, or returns the one sentence that
// says why there are none.
func listPorts(w io.Writer, m interface {
	Ins() ([]drivers.In, error)
	Outs() ([]drivers.Out, error)
}) error {
	ins, err := m.Ins()
	if err != nil {
		return err
	}
	outs, err := m.Outs()
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "MIDI inputs (what you play):")
	if len(ins) == 0 {
		fmt.Fprintln(w, "  none: plug in a keyboard or drum pad")
	}
	for i, in := range ins {
		fmt.Fprintf(w, "  %d: %s\n", i+1, in.String())
	}
	fmt.Fprintln(w, "MIDI outputs (where the others play):")
	if len(outs) == 0 {
		fmt.Fprintln(w, "  none: start a synth, or use --virtual")
	}
	for i, out := range outs {
		fmt.Fprintf(w, "  %d: %s\n", i+1, out.String())
	}
	return nil
}
