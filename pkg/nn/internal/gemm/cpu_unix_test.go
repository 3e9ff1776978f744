//go:build unix

package gemm

import (
	"syscall"
	"time"
)

// procCPU returns the process's CPU time (user + system, all threads).
func procCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
