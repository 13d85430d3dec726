package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonRead reads one JSON text in a single validating pass and hands out
// its values as slices of the input: no copies, no reflection. It is the
// hot path's decoder (every event:broadcast, in and out); encoding/json
// scans each value twice (validate, then decode) and copies raw values.
// jsontext is the token layer of encoding/json/v2, whose module stays
// the maintained home until v2 leaves GOEXPERIMENT.
//
// Duplicate names and escaped lone surrogates are allowed, as
// encoding/json and JavaScript allow them, so a payload is relayed
// exactly as the page wrote it (raw invalid UTF-8 never gets here:
// handleEIO refuses it).
type jsonRead struct {
	src bytes.Buffer // read in place: the decoder's values alias the input
	dec jsontext.Decoder
}

var jsonReads = sync.Pool{New: func() any { return new(jsonRead) }}

var jsonReadOpts = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// readJSON starts reading b; release the reader when done. Values it
// returns stay valid after that: they are b's own bytes.
func readJSON(b []byte) *jsonRead {
	r := jsonReads.Get().(*jsonRead)
	r.src = *bytes.NewBuffer(b)
	r.dec.Reset(&r.src, jsonReadOpts...)
	return r
}

func (r *jsonRead) release() {
	r.src = bytes.Buffer{}
	jsonReads.Put(r)
}

// open reads the delimiter that opens an array ('[') or object ('{').
func (r *jsonRead) open(kind jsontext.Kind) bool {
	tok, err := r.dec.ReadToken()
	return err == nil && tok.Kind() == kind
}

// more reports whether the array or object being read has another
// element; at its end it reads the closing delimiter.
func (r *jsonRead) more() bool {
	switch r.dec.PeekKind() {
	case ']', '}':
		_, err := r.dec.ReadToken()
		return err != nil // an error shows in the next read
	default:
		return true
	}
}

// value reads the next value, validated, as the input's bytes.
func (r *jsonRead) value() ([]byte, error) { return r.dec.ReadValue() }

// str reads the next value as a string's bytes, unquoted; null reads
// as empty. Without escapes they are the input's own bytes (no copy);
// with escapes, which the hot path never sees, a fresh copy.
func (r *jsonRead) str() ([]byte, error) {
	v, err := r.dec.ReadValue()
	switch {
	case err != nil:
		return nil, err
	case v[0] == '"':
		return unquote(v)
	case v[0] == 'n':
		return nil, nil
	default:
		return nil, errNotString
	}
}

// name reads an object member's name, unquoted: the input's own bytes
// unless it has escapes.
func (r *jsonRead) name() ([]byte, error) {
	v, err := r.dec.ReadValue()
	if err != nil {
		return nil, err
	}
	return unquote(v)
}

// unquote returns the contents of v, a valid JSON string: a slice of v
// when it is plain ASCII (no escapes), else a copy unescaped as
// encoding/json does (a lone surrogate or an invalid byte becomes
// U+FFFD). Names and codes the relay reads are ASCII: the copy is for
// what it goes on to refuse.
func unquote(v []byte) ([]byte, error) {
	if plainASCII(v) {
		return v[1 : len(v)-1], nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return []byte(s), err
}

func plainASCII(v []byte) bool {
	for _, c := range v {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// end checks that nothing but whitespace follows the value read.
func (r *jsonRead) end() error {
	if _, err := r.dec.ReadToken(); err != io.EOF {
		return errTrailingData
	}
	return nil
}

var (
	errNotString    = errors.New("not a string")
	errTrailingData = errors.New("data after the JSON value")
)
