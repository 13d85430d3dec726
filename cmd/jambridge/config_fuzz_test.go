package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig feeds the YAML config loader anything: it never panics,
// every error is one line, and a file it accepts builds rules or says in
// one line why not. Seeds: the shipped examples and the mistakes of
// TestConfigErrorsNameFileKeyAndProblem.
func FuzzParseConfig(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(configsDir, "*.yaml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "---\n", "room: X-1\nrelya: http://pi:3001\n", "inputs:\n  - match: /Launchkey[/\n",
		"inputs:\n  - pad-min-velocity:\n      hihat: 300\n", "inputs:\n  - min-velocity: loud\n",
		"output:\n  drum-map: {hihat: 22, hihat_closed: 23}\n", "in: [a, /b{1,2}/]\nvirtual: maybe\n",
		"inputs: {a: 1}\n", "inputs:\n  - curve: fixed:0\n    role: drums\n    channels: [17]\n",
		"&a [*a]\n", "a: &x {b: *x}\n", "inputs:\n- match: \"/\\n[/\"\n", "output:\n  drum-map:\n    \"\\n\": 1\n",
		"output:\n  transpose: 99999999999999999999\n", "\t\x00: \xff\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fc, err := parseConfig(data)
		if err != nil {
			oneLine(t, "parseConfig", err)
			return
		}
		if _, _, err := bridgeRules(fc, fc.In); err != nil {
			oneLine(t, "bridgeRules", err)
		}
	})
}

func oneLine(t *testing.T, what string, err error) {
	t.Helper()
	if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("%s: error %q is not one line", what, msg)
	}
}

// A config path that never ends (/dev/zero) or a file too large to be a
// config is refused after maxConfigSize bytes, in one sentence; a file
// of just that size loads.
func TestConfigReadIsBounded(t *testing.T) {
	if _, err := loadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "/dev/zero: larger than 1024 KiB") {
		t.Errorf("loadFile(/dev/zero): %v, want it refused as too large", err)
	}
	dir := t.TempDir()
	line := "# a comment line of a long config file, sixty-four bytes long..\n"
	fits := strings.Repeat(line, maxConfigSize/len(line)-1) + "room: X-1\n"
	fits += strings.Repeat("#", maxConfigSize-len(fits))
	for _, tc := range []struct {
		name, data string
		ok         bool
	}{{"fits.yaml", fits, true}, {"too-big.yaml", fits + "\n", false}} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		fc, err := loadFile(path)
		switch {
		case tc.ok && (err != nil || fc.Room != "X-1"):
			t.Errorf("%s (%d bytes): %v, room %q", tc.name, len(tc.data), err, fc.Room)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), "larger than")):
			t.Errorf("%s (%d bytes): %v, want it refused as too large", tc.name, len(tc.data), err)
		}
	}
}
