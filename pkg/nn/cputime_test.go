package nn

import (
	"testing"
	"time"

	"github.com/mhmstream/mhm/internal/cputime"
)

// cpuTime returns the process's CPU time (user + system, all threads), 0
// where it cannot be read.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}

// reportCPU adds the process CPU time per operation since c0 as
// "cpu-µs/op": on a shared machine it is far steadier than wall time
// (other processes only add waiting, not CPU time).
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-c0)/1e3/float64(b.N), "cpu-µs/op")
}
