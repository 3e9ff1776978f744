package stft

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used
// (getrusage RUSAGE_THREAD). Benchmarks report throughput per CPU-second as
// well as per wall-second because the machine is shared: wall time counts
// the time other processes hold the core.
func threadCPU(b *testing.B) time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuClock measures the benchmark loop's thread CPU time; call stop after the
// loop. It locks the goroutine to its thread for the duration.
func cpuClock(b *testing.B) (stop func() time.Duration) {
	runtime.LockOSThread()
	t0 := threadCPU(b)
	return func() time.Duration {
		d := threadCPU(b) - t0
		runtime.UnlockOSThread()
		return d
	}
}
