package nn

import "github.com/mhmstream/mhm/pkg/nn/internal/par"

// SetThreads caps the goroutines that one operation of this package (a
// matrix product, an elementwise pass, an optimiser step) may split its
// work across, process-wide, and returns the previous cap; n ≤ 0 removes
// the cap (the default: up to GOMAXPROCS). Results do not depend on it
// (every split is bit-identical to the serial computation).
//
// Splitting pays when one operation has the cores to itself, as in
// training. A process that already runs many operations at once (a stream
// worker scoring many machines on several goroutines, beside its Kafka
// clients) gains nothing from it and loses the hand-off and the pool's
// spinning: set 1 there, as torch.set_num_threads(1) is advised for
// request-parallel serving.
func SetThreads(n int) int { return par.SetLimit(n) }
