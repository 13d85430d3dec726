package wstest

import "encoding/binary"

// Frame returns one frame of opcode op carrying payload, FIN set when
// fin: masked with key when key is not nil (a client's frame; key is 4
// bytes), unmasked otherwise (a server's).
func Frame(fin bool, op byte, payload, key []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var mask byte
	if key != nil {
		mask = 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, mask|byte(n))
	case n <= 0xFFFF:
		b = append(b, mask|126, byte(n>>8), byte(n))
	default:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if key == nil {
		return append(b, payload...)
	}
	b = append(b, key[:4]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}
