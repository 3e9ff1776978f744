package vec

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestAdamAll checks that AdamAll on a list of tensors (sizes around the
// 8-value blocks and the 8192-value chunks, large enough in total to be
// split) gives bit for bit what Adam gives tensor by tensor, with one
// goroutine and with four, and that it allocates nothing.
func TestAdamAll(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	sizes := []int{1, 7, 9, 128, 8191, 8193, 16384, 40000, 0, 81920}
	h := &AdamCoef{Decay: 0.999, WD: 0.01, B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 1e-3, IBC2: 3, Eps: 1e-8}
	type set struct{ w, g, m, v [][]float32 }
	fresh := func() set {
		r := rand.New(rand.NewPCG(12, 12))
		var s set
		for _, n := range sizes {
			w, g, m, v := randVec(r, n), randVec(r, n), randVec(r, n), randVec(r, n)
			for i := range v {
				v[i] *= v[i]
			}
			s.w, s.g, s.m, s.v = append(s.w, w), append(s.g, g), append(s.m, m), append(s.v, v)
		}
		return s
	}
	want := fresh()
	for k := range want.w {
		Adam(want.w[k], want.g[k], want.m[k], want.v[k], h)
	}
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		got := fresh()
		AdamAll(got.w, got.g, got.m, got.v, h)
		for k := range got.w {
			for i := range got.w[k] {
				for _, p := range [][2]float32{{got.w[k][i], want.w[k][i]}, {got.m[k][i], want.m[k][i]}, {got.v[k][i], want.v[k][i]}, {got.g[k][i], want.g[k][i]}} {
					if math.Float32bits(p[0]) != math.Float32bits(p[1]) {
						t.Fatalf("GOMAXPROCS %d: tensor %d (%d values) [%d]: AdamAll %v, Adam %v", procs, k, sizes[k], i, p[0], p[1])
					}
				}
			}
		}
		if a := testing.AllocsPerRun(10, func() { AdamAll(got.w, got.g, got.m, got.v, h) }); a != 0 {
			t.Errorf("GOMAXPROCS %d: AdamAll allocates %v per call", procs, a)
		}
	}
	for _, f := range []func(){
		func() {
			AdamAll(make([][]float32, 2), make([][]float32, 1), make([][]float32, 2), make([][]float32, 2), h)
		},
		func() {
			AdamAll([][]float32{make([]float32, 9)}, [][]float32{make([]float32, 9)}, [][]float32{make([]float32, 8)}, [][]float32{make([]float32, 9)}, h)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("AdamAll with mismatched lists did not panic")
				}
			}()
			f()
		}()
	}
}
