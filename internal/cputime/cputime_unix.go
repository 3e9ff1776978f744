//go:build unix && !linux

package cputime

import (
	"syscall"
	"time"
)

// Process returns the CPU time (user + system, all threads) the process
// has used (getrusage). ok is false where it cannot be read.
func Process() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// Thread is only measured on Linux.
func Thread() (d time.Duration, ok bool) { return 0, false }
