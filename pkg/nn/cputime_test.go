package nn

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's CPU time (user + system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the process CPU time per operation since c0 as
// "cpu-µs/op": on a shared machine it is far steadier than wall time
// (other processes only add waiting, not CPU time).
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-c0)/1e3/float64(b.N), "cpu-µs/op")
}
