package rawsys

import "syscall"

// sysSend is write(2) on linux/386, whose system call table in package
// syscall reaches sendto only through socketcall(2); write ignores the
// flags (the runtime ignores a SIGPIPE raised by a socket's write).
const sysSend = syscall.SYS_WRITE
