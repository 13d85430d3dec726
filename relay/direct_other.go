//go:build !unix

package relay

import "errors"

// write is not available here: every packet goes through the queue.
func (dc *directConn) write() (int, error) {
	return 0, errors.New("direct writes unsupported")
}

func (dc *directConn) tryWrite(uintptr) bool { return true }
