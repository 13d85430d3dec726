package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/mapping"
	"github.com/jambridge/jambridge/relay"
)

func monitorCommand() *cli.Command {
	return &cli.Command{
		Name:  "monitor",
		Usage: "join a session and print every event as it arrives",
		Flags: toolFlags("monitor", "session to watch",
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per event"}),
		Action: monitorAction,
	}
}

func monitorAction(c *cli.Context) error {
	t, err := setupTool(c)
	if err != nil {
		return err
	}
	m := &monitor{w: c.App.Writer, json: c.Bool("json")}
	sess, err := relay.NewSession(relay.SessionConfig{
		URL: t.relay, TLS: t.tls, Room: t.room, Name: t.name, Secret: t.secret, Token: t.token, Kind: "monitor", JoinOnly: true,
		OnEvent: m.event, OnPresence: m.presence, Logger: t.log,
	})
	if err != nil {
		return err
	}
	m.sess = sess
	return sess.Run(c.Context)
}

// monitor prints a session's events; the Session calls it from one
// goroutine, mu only guards the writer against presence lines.
type monitor struct {
	w    io.Writer
	json bool
	sess *relay.Session
	mu   sync.Mutex
}

// monitorLine is one event as --json prints it.
type monitorLine struct {
	Time      string          `json:"time"`
	Sender    string          `json:"sender"`
	SenderID  string          `json:"senderId"`
	Event     string          `json:"event"`
	Note      string          `json:"note,omitempty"`
	MIDI      *int            `json:"midi,omitempty"`
	Velocity  *int            `json:"velocity,omitempty"`
	Channel   int             `json:"channel,omitempty"`
	Seq       json.RawMessage `json:"seq,omitempty"`
	LatencyMs *float64        `json:"latencyMs,omitempty"`
	Payload   json.RawMessage `json:"payload"`
}

func (m *monitor) event(b relay.Broadcast) {
	l := monitorLine{Time: b.Received.Format("15:04:05.000"), SenderID: b.SenderID, Sender: m.name(b.SenderID),
		Event: b.EventName, Seq: b.Seq, Payload: b.Payload}
	if ev, err := mapping.ParseEvent(b.EventName, b.Payload); err == nil {
		l.Note, l.Channel = ev.Note, ev.Channel
		if ev.Kind == mapping.DrumHit || ev.Kind == mapping.PianoNote {
			l.MIDI, l.Velocity = &ev.MIDI, &ev.Velocity
		}
		if ev.Timestamp > 0 && m.sess != nil { // both in the relay's clock
			lat := m.sess.RelayTime(b.Received) - ev.Timestamp
			l.LatencyMs = &lat
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.json {
		out, _ := json.Marshal(l)
		fmt.Fprintf(m.w, "%s\n", out)
		return
	}
	fmt.Fprintf(m.w, "%s  %-12s %-15s %s\n", l.Time, l.Sender, l.Event, describe(l))
}

// describe is the human part of a text line: note, velocity, latency.
func describe(l monitorLine) string {
	s := ""
	if l.Note != "" {
		s += l.Note
		if l.MIDI != nil {
			s += fmt.Sprintf(" (%d)", *l.MIDI)
		}
	}
	if l.Velocity != nil {
		s += fmt.Sprintf("  vel %d", *l.Velocity)
	}
	if l.Channel != 0 {
		s += fmt.Sprintf("  ch %d", l.Channel)
	}
	if l.LatencyMs != nil {
		s += fmt.Sprintf("  %+.1f ms", *l.LatencyMs)
	}
	if s == "" {
		s = string(l.Payload)
	}
	return s
}

func (m *monitor) presence(p relay.Presence) {
	if m.json {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now().Format("15:04:05.000")
	switch p.Kind {
	case relay.PresenceConnected:
		fmt.Fprintf(m.w, "%s  watching session %s (%d in it)\n", now, p.Room, len(p.Participants))
	case relay.PresenceJoined:
		fmt.Fprintf(m.w, "%s  %s joined\n", now, p.Participant.Name)
	case relay.PresenceLeft:
		fmt.Fprintf(m.w, "%s  %s left\n", now, nameOr(p.Participant.Name, p.UserID))
	case relay.PresenceDisconnected:
		fmt.Fprintf(m.w, "%s  disconnected from the relay\n", now)
	}
}

func (m *monitor) name(id string) string {
	if m.sess != nil {
		for _, p := range m.sess.Participants() {
			if p.ID == id {
				return p.Name
			}
		}
	}
	return id
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
