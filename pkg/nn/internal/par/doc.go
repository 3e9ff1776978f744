// Package par runs the parts of pkg/nn's split computations (the large
// products of package gemm, the elementwise passes of package vec) on the
// calling goroutine and a shared pool of GOMAXPROCS-1 workers.
//
// The workers spin for a while (Spin) after each job before they park, so
// that the next job of a training step, usually a few microseconds later,
// starts on a second core within a microsecond instead of the tens of
// microseconds a goroutine wake-up costs. Parts are claimed from a shared
// counter, so whoever is free takes the next one; a caller whose split
// depends only on the shape (never on the number of goroutines that run
// it) therefore gets the same result whatever the scheduling.
package par
