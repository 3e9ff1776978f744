package vec

import (
	"sync"

	"github.com/mhmstream/mhm/pkg/nn/internal/par"
)

// minParallel is the number of values from which a pass is split across
// goroutines (when GOMAXPROCS > 1), each part getting at least half of it.
// Handing a part to a spinning worker of package par costs about 0.3 µs;
// on two idle cores splitting 32k values (3 to 15 µs of work on one core,
// the DCASE network's BatchNorm layers at batch 256) gave 1.1 to 1.6×,
// 64k values 1.5 to 1.8×, 16k values 0.6 to 1.2× (TestTuneSplit,
// docs/kernels.md). Every split keeps each output's arithmetic in one
// part (column ranges for column sums, row or index ranges otherwise,
// fixed blocks for SqDiff's sum), so results do not depend on GOMAXPROCS.
// A variable only so that the tuning test can move it.
var minParallel = 1 << 15

// maxParts caps the number of parts of one pass.
const maxParts = 16

// split returns how many parts a pass over n values with at most units
// independent units (columns, rows, blocks) should run in: 1 below
// minParallel or with GOMAXPROCS = 1.
func split(n, units int) int {
	if n < minParallel || units < 2 {
		return 1
	}
	return max(1, min(par.Threads(), maxParts, units, n/max(1, minParallel/2)))
}

type op int

const (
	opColSums op = iota
	opColDotSums
	opAffineRows
	opGradRows
	opReLUMask
	opAdam
	opSqDiff
	opColDotSumsMask
)

// A job is one split call: its operation, arguments and the group its parts
// report to. Jobs are recycled, so a parallel call allocates nothing in
// steady state.
type job struct {
	op              op
	dst, a, b, d    []float32
	k0, k1, k2, k3  []float32
	s1, s2, partial []float64
	n, c            int
	relu            bool
	scale           float32
	h               AdamCoef
	per, units      int // the parts: [i*per, min((i+1)*per, units))
}

var (
	jobsMu   sync.Mutex
	jobsFree []*job
)

func getJob(o op) *job {
	jobsMu.Lock()
	var j *job
	if n := len(jobsFree); n > 0 {
		j = jobsFree[n-1]
		jobsFree = jobsFree[:n-1]
	}
	jobsMu.Unlock()
	if j == nil {
		j = new(job)
	}
	j.op = o
	return j
}

// putJob drops the job's references to the caller's slices and recycles it.
func putJob(j *job) {
	partial := j.partial
	*j = job{partial: partial[:0]}
	jobsMu.Lock()
	jobsFree = append(jobsFree, j)
	jobsMu.Unlock()
}

// Part runs part i of the job (par.Job).
func (j *job) Part(i int) {
	lo := i * j.per
	j.run(lo, min(lo+j.per, j.units))
}

// start runs the job's units [0, units) in at most np parts of whole
// multiples of step (the last part takes the rest), one on the calling
// goroutine and the others on pool workers (par.Do), and waits for all of
// them.
func (j *job) start(units, step, np int) {
	j.per = (units/np + step - 1) / step * step
	j.units = units
	par.Do(j, (units+j.per-1)/j.per)
}

// cols splits the columns in multiples of 16 (one cache line of a row).
func (j *job) cols(np int) {
	j.start(j.c, 16, np)
	putJob(j)
}

// rows splits the rows.
func (j *job) rows(np int) {
	j.start(j.n, 1, np)
	putJob(j)
}

// span splits a flat range in multiples of 8 values, or SqDiff's blocks.
// It does not recycle the job: SqDiff reads the partial sums first.
func (j *job) span(np int) {
	if j.op == opSqDiff {
		j.start(len(j.partial), 1, np)
		return
	}
	j.start(j.n, 8, np)
	putJob(j)
}

// run computes the units [lo, hi) of the job.
func (j *job) run(lo, hi int) {
	n, c := j.n, j.c
	switch j.op {
	case opColSums:
		colSumsRange(j.s1, j.s2, j.a, n, c, lo, hi)
	case opColDotSums:
		colDotSumsRange(j.s1, j.s2, j.a, j.b, n, c, lo, hi)
	case opColDotSumsMask:
		colDotSumsMaskRange(j.s1, j.s2, j.dst, j.a, j.b, j.d, n, c, lo, hi)
	case opAffineRows:
		affineRowsRange(j.dst[lo*c:hi*c], j.a[lo*c:hi*c], hi-lo, c, j.k0, j.k1, j.k2, j.relu)
	case opGradRows:
		gradRowsRange(j.dst[lo*c:hi*c], j.a[lo*c:hi*c], j.b[lo*c:hi*c], hi-lo, c, j.k0, j.k1, j.k2, j.k3)
	case opReLUMask:
		reluMaskRange(j.dst[lo:hi], j.a[lo:hi], j.b[lo:hi])
	case opAdam:
		adamRange(j.dst[lo:hi], j.a[lo:hi], j.b[lo:hi], j.d[lo:hi], &j.h)
	case opSqDiff:
		for b := lo; b < hi; b++ {
			j.partial[b] = sqDiffBlock(j.dst, j.a, j.b, b*sqBlock, min((b+1)*sqBlock, n), j.scale)
		}
	}
}

func grow64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
