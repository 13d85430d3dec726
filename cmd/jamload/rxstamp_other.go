//go:build !linux

package main

import "syscall"

// rxStamps: no kernel receive stamps off Linux; reads are stamped when
// they return.
type rxStamps struct{}

func enableRxStamps(fd int) error { return nil }

func readStamped(fd int, b []byte, _ *rxStamps) (n int, queued int64, err error) {
	n, err = syscall.Read(fd, b)
	return n, 0, err
}
