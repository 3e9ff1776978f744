package vec

import (
	"sync"

	"github.com/mhmstream/mhm/pkg/nn/internal/par"
)

// AdamAll applies Adam (see Adam) to every tensor k of a parameter list:
// w[k], g[k], m[k], v[k] (each of len(w[k])), with the same constants. The
// result is that of calling Adam on each tensor in turn, but the whole list
// is one pass split across goroutines (in chunks of adamChunk values of one
// tensor each, claimed by whichever goroutine is free), so that the many
// small tensors of a network (biases, 128×128 weights) are split too. It
// panics if the lists differ in length or a slice is too short, and
// allocates nothing in steady state.
func AdamAll(w, g, m, v [][]float32, h *AdamCoef) {
	need("AdamAll", len(g) == len(w) && len(m) == len(w) && len(v) == len(w))
	total := 0
	for k, wk := range w {
		n := len(wk)
		need("AdamAll", len(g[k]) >= n && len(m[k]) >= n && len(v[k]) >= n)
		total += n
	}
	if parts := split(total, (total+adamChunk-1)/adamChunk); parts <= 1 {
		for k := range w {
			adamRange(w[k], g[k], m[k], v[k], h)
		}
		return
	}
	j := getAdamJob()
	j.w, j.g, j.m, j.v, j.h = w, g, m, v, *h
	for k, wk := range w {
		for lo := 0; lo < len(wk); lo += adamChunk {
			j.items = append(j.items, adamItem{k, lo, min(lo+adamChunk, len(wk))})
		}
	}
	par.Do(j, len(j.items))
	putAdamJob(j)
}

// adamChunk is the unit of AdamAll's split: a multiple of 8, so that only
// the last values of a tensor take the pure-Go tail, as in a serial run
// (the assembly and the Go loop may round differently).
const adamChunk = 8192

type adamItem struct{ k, lo, hi int }

type adamJob struct {
	w, g, m, v [][]float32
	h          AdamCoef
	items      []adamItem
}

// Part updates item i (par.Job).
func (j *adamJob) Part(i int) {
	it := j.items[i]
	k, lo, hi := it.k, it.lo, it.hi
	adamRange(j.w[k][lo:hi], j.g[k][lo:hi], j.m[k][lo:hi], j.v[k][lo:hi], &j.h)
}

var (
	adamMu   sync.Mutex
	adamFree []*adamJob
)

func getAdamJob() *adamJob {
	adamMu.Lock()
	defer adamMu.Unlock()
	if n := len(adamFree); n > 0 {
		j := adamFree[n-1]
		adamFree = adamFree[:n-1]
		return j
	}
	return new(adamJob)
}

func putAdamJob(j *adamJob) {
	items := j.items[:0]
	*j = adamJob{items: items}
	adamMu.Lock()
	adamFree = append(adamFree, j)
	adamMu.Unlock()
}
