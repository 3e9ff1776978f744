//go:build linux

package feature

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (getrusage
// RUSAGE_THREAD). Benchmarks report throughput per CPU-second beside
// wall-clock figures because the machine is shared: wall time also counts
// the time other processes hold the core. Callers lock the goroutine to its
// thread (runtime.LockOSThread) around the measured loop.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
