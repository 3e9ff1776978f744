//go:build race

package gemm

// raceEnabled: the race detector allocates for its own bookkeeping when
// goroutines park and wake, so allocation counts of the parallel paths
// mean nothing under -race.
const raceEnabled = true
