package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
)

// record refuses to replace a file unless --force is given, in one
// sentence and before joining; with --force it replaces it.
func TestRecordRefusesToReplaceAFile(t *testing.T) {
	r, keys := jamWithKeys(t)
	path := filepath.Join(t.TempDir(), "jam.mid")
	old := []byte("last night's jam")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stop := runTool(t, "record", path, "--relay", r.url(), "--room", "JAM-TEST")
	err := stop()
	if want := path + " exists: give --force to replace it, or another file name"; err == nil || err.Error() != want {
		t.Errorf("record over a file: %v, want %q", err, want)
	}
	if strings.Contains(out.String(), "msg=recording") {
		t.Error("record joined the session before refusing")
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, old) {
		t.Errorf("the file was changed: %q", b)
	}
	assertNoTempFiles(t, filepath.Dir(path), path)

	out, stop = startRecorder(t, r, path, "--force")
	assertNoTempFiles(t, filepath.Dir(path), path) // a kill now leaves nothing behind
	keys.Play(midi.NoteOn(0, 62, 90))
	eventually(t, "event recorded", func() bool { return strings.Contains(out.String(), "msg=event") })
	if err := stop(); err != nil {
		t.Fatalf("record --force: %v\n%s", err, out)
	}
	if got := loadRecording(t, path); len(got.Events) == 0 || got.Events[0].Msg.String() != midi.NoteOn(0, 62, 90).String() {
		t.Errorf("--force: the file holds %v, want the new recording", got.Events)
	}
	assertNoTempFiles(t, filepath.Dir(path), path)
}

// A file that appears at the path while recording is not replaced, and
// the recording is not lost: it is kept in its temporary file, and the
// error says where.
func TestRecordKeepsTheRecordingWhenTheFileAppeared(t *testing.T) {
	r, keys := jamWithKeys(t)
	path := filepath.Join(t.TempDir(), "jam.mid")
	out, stop := startRecorder(t, r, path)
	keys.Play(midi.NoteOn(0, 64, 80))
	eventually(t, "event recorded", func() bool { return strings.Contains(out.String(), "msg=event") })
	if err := os.WriteFile(path, []byte("someone else's"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := stop()
	m := regexp.MustCompile(`appeared while recording: give --force to replace it; the recording is kept in (\S+)$`).FindStringSubmatch(errText(err))
	if m == nil {
		t.Fatalf("record: %v, want it to say the file appeared and where the recording is", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "someone else's" {
		t.Errorf("the file that appeared was changed: %q", b)
	}
	if got := loadRecording(t, m[1]); len(got.Events) == 0 || got.Events[0].Msg.String() != midi.NoteOn(0, 64, 80).String() {
		t.Errorf("kept recording holds %v", got.Events)
	}
}

// jamWithKeys starts a relay and alice's bridge in JAM-TEST, with a
// keyboard she plays on.
func jamWithKeys(t *testing.T) (*testRelay, *miditest.In) {
	t.Helper()
	r := startRelay(t, "127.0.0.1:0")
	sys := &miditest.System{}
	keys := sys.PlugIn("Keys")
	startJam(t, r, "alice", bridge.Config{}, sys)
	eventually(t, "keys open", keys.Listening)
	return r, keys
}

// startRecorder runs `jambridge record path` in JAM-TEST with the extra
// flags and waits for it to have joined.
func startRecorder(t *testing.T, r *testRelay, path string, flags ...string) (*syncBuf, func() error) {
	t.Helper()
	args := append([]string{"record", path}, flags...)
	out, stop := runTool(t, append(args, "--relay", r.url(), "--room", "JAM-TEST", "--log-level", "debug")...)
	eventually(t, "recorder joined", func() bool { return strings.Contains(out.String(), "msg=recording") })
	return out, stop
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func loadRecording(t *testing.T, path string) bridge.Performance {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := bridge.LoadPerformance(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// assertNoTempFiles checks dir holds nothing but keep.
func assertNoTempFiles(t *testing.T, dir, keep string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Join(dir, e.Name()) != keep {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
