//go:build linux && !386

package rawsys

import "syscall"

// sysSend is send(2): sendto without an address.
const sysSend = syscall.SYS_SENDTO
