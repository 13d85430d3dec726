package relay

import "strings"

// Room codes are letters, digits and '-', MinRoomCode to MaxRoomCode
// characters, matched without regard to case. The server refuses any
// other code with bad_request; clients check codes with ValidRoomCode
// before they join, so both ends keep one rule.
const (
	MinRoomCode = 3
	MaxRoomCode = 32
)

// ValidRoomCode reports whether code is a room code the relay accepts.
func ValidRoomCode(code string) bool {
	if len(code) < MinRoomCode || len(code) > MaxRoomCode {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// normalizeRoomCode upper-cases code and reports whether it is a valid
// room code (ValidRoomCode): the server's one use of the rule.
func normalizeRoomCode(code string) (string, bool) {
	if !ValidRoomCode(code) {
		return "", false
	}
	return strings.ToUpper(code), true
}
