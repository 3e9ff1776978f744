package vec

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
)

// The assembly kernels are checked against their pure-Go twins (the same
// formulas in plain loops; under -tags noasm both sides are the Go loops,
// which keeps the test meaningful as a shape and aliasing check). The
// float32 outputs may differ by the rounding of a fused multiply-add: the
// tolerance is a few ulps of the terms' magnitudes. The float64 sums differ
// only in summation order: 1e-12 relative to Σ|terms|.

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// shapes covers every column count around the 8- and 16-wide blocks and
// the DCASE widths, with row counts 1..5 and 17.
func shapes() [][2]int {
	var s [][2]int
	for _, n := range []int{1, 2, 3, 5, 17} {
		for c := 1; c <= 40; c++ {
			s = append(s, [2]int{n, c})
		}
		s = append(s, [2]int{n, 128}, [2]int{n, 640})
	}
	return s
}

func close32(a, b, scale float32) bool {
	return math.Abs(float64(a-b)) <= 4e-7*float64(scale)+1e-30
}

func close64(a, b, scale float64) bool { return math.Abs(a-b) <= 1e-12*scale+1e-300 }

func TestColSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes() {
		n, c := s[0], s[1]
		x, g := randVec(rng, n*c), randVec(rng, n*c)
		init := func() []float64 {
			v := make([]float64, c)
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			return v
		}
		s1, s2, sg, sgx := init(), init(), init(), init()
		w1, w2, wg, wgx := append([]float64(nil), s1...), append([]float64(nil), s2...), append([]float64(nil), sg...), append([]float64(nil), sgx...)
		ColSums(s1, s2, x, n, c)
		colSumsGo(w1, w2, x, n, c, 0, c)
		ColDotSums(sg, sgx, g, x, n, c)
		colDotSumsGo(wg, wgx, g, x, n, c, 0, c)
		// The masked variant: g masked by y > 0 (a third of y ≤ 0 or NaN).
		y := randVec(rng, n*c)
		for i := range y {
			if i%7 == 3 {
				y[i] = float32(math.NaN())
			}
		}
		gm, wm := make([]float32, n*c), make([]float32, n*c)
		mg, mgx, wmg, wmgx := make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
		ColDotSumsMasked(mg, mgx, gm, g, y, x, n, c)
		reluMaskGo(wm, g, y)
		colDotSumsGo(wmg, wmgx, wm, x, n, c, 0, c)
		for i := range gm {
			if math.Float32bits(gm[i]) != math.Float32bits(wm[i]) {
				t.Fatalf("%d×%d: ColDotSumsMasked g[%d] = %v, want %v", n, c, i, gm[i], wm[i])
			}
		}
		for j := 0; j < c; j++ {
			if !close64(mg[j], wmg[j], float64(n)*4+1) || !close64(mgx[j], wmgx[j], float64(n)*16+1) {
				t.Fatalf("%d×%d: ColDotSumsMasked column %d: %v %v, want %v %v", n, c, j, mg[j], mgx[j], wmg[j], wmgx[j])
			}
		}
		for j := 0; j < c; j++ {
			var a1, a2, ag, agx float64
			for i := 0; i < n; i++ {
				v, u := float64(x[i*c+j]), float64(g[i*c+j])
				a1 += math.Abs(v)
				a2 += v * v
				ag += math.Abs(u)
				agx += math.Abs(u * v)
			}
			if !close64(s1[j], w1[j], a1+1) || !close64(s2[j], w2[j], a2+1) ||
				!close64(sg[j], wg[j], ag+1) || !close64(sgx[j], wgx[j], agx+1) {
				t.Fatalf("%d×%d column %d: sums %v %v %v %v, want %v %v %v %v", n, c, j, s1[j], s2[j], sg[j], sgx[j], w1[j], w2[j], wg[j], wgx[j])
			}
		}
	}
}

func TestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, s := range shapes() {
		n, c := s[0], s[1]
		x, g := randVec(rng, n*c), randVec(rng, n*c)
		mu, sc, sh, k, p, q := randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c)
		for _, relu := range []bool{false, true} {
			y, want := make([]float32, n*c), make([]float32, n*c)
			AffineRows(y, x, n, c, mu, sc, sh, relu)
			affineRowsGo(want, x, n, c, 0, mu, sc, sh, relu)
			inPlace := append([]float32(nil), x...)
			AffineRows(inPlace, inPlace, n, c, mu, sc, sh, relu)
			for i := range y {
				j := i % c
				scale := abs(x[i]-mu[j])*abs(sc[j]) + abs(sh[j])
				if !close32(y[i], want[i], scale) || y[i] != inPlace[i] {
					t.Fatalf("AffineRows %d×%d relu=%v [%d] = %v (in place %v), want %v", n, c, relu, i, y[i], inPlace[i], want[i])
				}
				if relu && y[i] < 0 {
					t.Fatalf("AffineRows relu gave %v", y[i])
				}
			}
		}
		dx, want := make([]float32, n*c), make([]float32, n*c)
		GradRows(dx, g, x, n, c, k, p, mu, q)
		gradRowsGo(want, g, x, n, c, 0, k, p, mu, q)
		inPlace := append([]float32(nil), g...)
		GradRows(inPlace, inPlace, x, n, c, k, p, mu, q)
		for i := range dx {
			j := i % c
			scale := abs(k[j]*g[i]) + abs(p[j]*(x[i]-mu[j])) + abs(q[j])
			if !close32(dx[i], want[i], scale) || dx[i] != inPlace[i] {
				t.Fatalf("GradRows %d×%d [%d] = %v (in place %v), want %v", n, c, i, dx[i], inPlace[i], want[i])
			}
		}
	}
}

func abs(v float32) float32 { return float32(math.Abs(float64(v))) }

func TestReLUMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	nan := float32(math.NaN())
	for n := 0; n <= 70; n++ {
		y, dy := randVec(rng, n), randVec(rng, n)
		for i := range y {
			switch rng.IntN(8) {
			case 0:
				y[i] = 0
			case 1:
				y[i] = float32(math.Copysign(0, -1))
			case 2:
				y[i] = nan
			case 3:
				y[i] = -nan
			case 4:
				y[i] = float32(math.Inf(1))
			}
		}
		dx := make([]float32, n)
		ReLUMask(dx, dy, y)
		for i := range dx {
			want := float32(0)
			if y[i] > 0 {
				want = dy[i]
			}
			if math.Float32bits(dx[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: ReLUMask[%d] with y=%v dy=%v gave %v, want %v", n, i, y[i], dy[i], dx[i], want)
			}
		}
		ReLUMask(dy, dy, y) // in place
		for i := range dx {
			if math.Float32bits(dx[i]) != math.Float32bits(dy[i]) {
				t.Fatalf("n=%d: in-place ReLUMask differs at %d", n, i)
			}
		}
	}
}

func TestAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	h := &AdamCoef{Decay: 0.999, WD: 0.01, B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 1e-3 / 0.1, IBC2: float32(1 / math.Sqrt(0.001)), Eps: 1e-8}
	for n := 0; n <= 70; n++ {
		w, g, m, v := randVec(rng, n), randVec(rng, n), randVec(rng, n), randVec(rng, n)
		for i := range v {
			v[i] = v[i] * v[i]
		}
		w2, g2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), g...), append([]float32(nil), m...), append([]float32(nil), v...)
		Adam(w, g, m, v, h)
		adamGo(w2, g2, m2, v2, h)
		for i := range w {
			if g[i] != 0 || !close32(m[i], m2[i], 2) || !close32(v[i], v2[i], 2*v2[i]+1e-3) || !close32(w[i], w2[i], 4*(abs(w2[i])+1e-2)) {
				t.Fatalf("n=%d: Adam [%d]: w %v m %v v %v g %v, want %v %v %v 0", n, i, w[i], m[i], v[i], g[i], w2[i], m2[i], v2[i])
			}
		}
	}
}

func TestSqDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for n := 0; n <= 70; n++ {
		p, q := randVec(rng, n), randVec(rng, n)
		grad, want := make([]float32, n), make([]float32, n)
		s := SqDiff(grad, p, q, 0.25)
		ws := sqDiffGo(want, p, q, 0.25)
		if !close64(s, ws, ws+1) || SqDiff(nil, p, q, 0.25) != s {
			t.Fatalf("n=%d: SqDiff %v (without grad %v), want %v", n, s, SqDiff(nil, p, q, 0.25), ws)
		}
		for i := range grad {
			if grad[i] != want[i] {
				t.Fatalf("n=%d: grad[%d] = %v, want %v", n, i, grad[i], want[i])
			}
		}
	}
}

func TestPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"ColSums": func() { ColSums(make([]float64, 8), make([]float64, 8), make([]float32, 15), 2, 8) },
		"ColDotSums": func() {
			ColDotSums(make([]float64, 7), make([]float64, 8), make([]float32, 16), make([]float32, 16), 2, 8)
		},
		"AffineRows": func() { AffineRows(make([]float32, 16), make([]float32, 16), 2, 8, nil, nil, nil, false) },
		"GradRows": func() {
			GradRows(make([]float32, 15), make([]float32, 16), make([]float32, 16), 2, 8, nil, nil, nil, nil)
		},
		"ReLUMask": func() { ReLUMask(make([]float32, 9), make([]float32, 8), make([]float32, 9)) },
		"Adam": func() {
			Adam(make([]float32, 9), make([]float32, 9), make([]float32, 8), make([]float32, 9), &AdamCoef{})
		},
		"SqDiff": func() { SqDiff(make([]float32, 8), make([]float32, 9), make([]float32, 9), 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on a short slice", name)
				}
			}()
			f()
		}()
	}
}

func TestAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x, y := randVec(rng, 64*128), make([]float32, 64*128)
	s1, s2 := make([]float64, 128), make([]float64, 128)
	c := randVec(rng, 128)
	h := &AdamCoef{Decay: 1, B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 1e-3, IBC2: 1, Eps: 1e-8}
	m, v := make([]float32, len(x)), make([]float32, len(x))
	if a := testing.AllocsPerRun(10, func() {
		ColSums(s1, s2, x, 64, 128)
		ColDotSums(s1, s2, x, y, 64, 128)
		AffineRows(y, x, 64, 128, c, c, c, true)
		GradRows(y, y, x, 64, 128, c, c, c, c)
		ReLUMask(y, y, x)
		Adam(y, x[:len(y)], m, v, h)
		SqDiff(y, x, x, 1)
	}); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for rows := 0; rows <= 19; rows++ {
		for cols := 0; cols <= 19; cols++ {
			src := randVec(rng, rows*cols)
			dst := make([]float32, rows*cols)
			Transpose(dst, src, rows, cols)
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					if dst[j*rows+i] != src[i*cols+j] {
						t.Fatalf("%d×%d: dst[%d][%d] = %v, want %v", rows, cols, j, i, dst[j*rows+i], src[i*cols+j])
					}
				}
			}
		}
	}
}

func TestRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, l := range []int{1, 2, 3, 4, 5, 8} {
		for _, ds := range []int{1, 2, 3, 4, 9} {
			for _, ss := range []int{1, 2, 4, 7} {
				for n := 1; n <= 9; n++ {
					src := randVec(rng, (n-1)*ss+l+3)
					dst := randVec(rng, (n-1)*ds+l+3)
					want := append([]float32(nil), dst...)
					for i := 0; i < n; i++ {
						for j := 0; j < l; j++ {
							want[i*ds+j] += src[i*ss+j]
						}
					}
					got := append([]float32(nil), dst...)
					AddRuns(got, ds, src, ss, n, l)
					for i := range want {
						if !close32(got[i], want[i], abs(want[i])+4) {
							t.Fatalf("AddRuns l=%d ds=%d ss=%d n=%d: [%d] = %v, want %v", l, ds, ss, n, i, got[i], want[i])
						}
					}
					if ds < l {
						continue // copies must not overlap
					}
					copy(want, dst)
					for i := 0; i < n; i++ {
						copy(want[i*ds:i*ds+l], src[i*ss:i*ss+l])
					}
					got = append(got[:0], dst...)
					CopyRuns(got, ds, src, ss, n, l)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("CopyRuns l=%d ds=%d ss=%d n=%d: [%d] = %v, want %v", l, ds, ss, n, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestParallelMatchesSerial: passes large enough to be split across
// goroutines (GOMAXPROCS 4) give bit-identical results to one goroutine,
// including SqDiff's sum (fixed blocks) and shapes that do not divide into
// the parts evenly.
func TestParallelMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	type out struct {
		s1, s2, sg, sgx []float64
		y, dx, mask     []float32
		w, m, v         []float32
		grad            []float32
		sum             float64
	}
	for _, s := range [][2]int{{512, 128}, {1027, 80}, {300, 640}} {
		n, c := s[0], s[1]
		x, g, y0 := randVec(rng, n*c), randVec(rng, n*c), randVec(rng, n*c)
		mu, sc, sh, k, p, q := randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c)
		w0, m0, v0 := randVec(rng, n*c), randVec(rng, n*c), randVec(rng, n*c)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		h := &AdamCoef{Decay: 1, WD: 0.01, B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 1e-3, IBC2: 3, Eps: 1e-8}
		run := func(procs int) out {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			o := out{s1: make([]float64, c), s2: make([]float64, c), sg: make([]float64, c), sgx: make([]float64, c),
				y: make([]float32, n*c), dx: make([]float32, n*c), mask: make([]float32, n*c), grad: make([]float32, n*c),
				w: append([]float32(nil), w0...), m: append([]float32(nil), m0...), v: append([]float32(nil), v0...)}
			ColSums(o.s1, o.s2, x, n, c)
			ColDotSums(o.sg, o.sgx, g, x, n, c)
			ColDotSumsMasked(o.sg, o.sgx, o.mask, g, y0, x, n, c)
			AffineRows(o.y, x, n, c, mu, sc, sh, true)
			GradRows(o.dx, g, x, n, c, k, p, mu, q)
			ReLUMask(o.mask, g, y0)
			Adam(o.w, append([]float32(nil), g...), o.m, o.v, h)
			o.sum = SqDiff(o.grad, x, g, 0.5)
			return o
		}
		a, b := run(1), run(4)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%d×%d: results with GOMAXPROCS 4 differ from 1", n, c)
		}
	}
}
