package wstest

import (
	"bytes"
	"testing"
)

// Frames as RFC 6455 5.7 spells them out, and the two longer lengths.
func TestFrame(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"unmasked Hello", Frame(true, 0x1, []byte("Hello"), nil), []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}},
		{"masked Hello", Frame(true, 0x1, []byte("Hello"), []byte{0x37, 0xfa, 0x21, 0x3d}),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"first fragment", Frame(false, 0x1, []byte("Hel"), nil), []byte{0x01, 0x03, 'H', 'e', 'l'}},
		{"256 bytes", Frame(true, 0x2, make([]byte, 256), nil)[:4], []byte{0x82, 0x7E, 0x01, 0x00}},
		{"64 KiB", Frame(true, 0x2, make([]byte, 65536), nil)[:10], []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, c := range cases {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: % x, want % x", c.name, c.got, c.want)
		}
	}
}
