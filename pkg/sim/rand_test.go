package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The standard normal's moments and tail masses (Abramowitz and Stegun
// 26.2): P(|x| < 1) = 0.682689, P(|x| < 2) = 0.954500, P(|x| > 3) = 0.002700,
// P(|x| > 3.5) = 0.000465 (beyond the ziggurat's base strip at 3.44).
func TestNormal(t *testing.T) {
	r := newRand(1, 1)
	const n = 2_000_000
	var m1, m2, m4 float64
	var in1, in2, out3, out35 int
	for range n {
		x := r.norm()
		m1 += x
		m2 += x * x
		m4 += x * x * x * x
		a := math.Abs(x)
		if a < 1 {
			in1++
		}
		if a < 2 {
			in2++
		}
		if a > 3 {
			out3++
		}
		if a > 3.5 {
			out35++
		}
	}
	m1, m2, m4 = m1/n, m2/n, m4/n
	for _, c := range []struct {
		name      string
		got, want float64
		tol       float64 // about 4 standard errors
	}{
		{"mean", m1, 0, 0.003},
		{"variance", m2, 1, 0.004},
		{"kurtosis", m4, 3, 0.03},
		{"P(|x|<1)", float64(in1) / n, 0.682689, 0.0014},
		{"P(|x|<2)", float64(in2) / n, 0.954500, 0.0006},
		{"P(|x|>3)", float64(out3) / n, 0.002700, 0.00015},
		{"P(|x|>3.5)", float64(out35) / n, 0.000465, 0.00007},
	} {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s = %.6f, want %.6f ± %.6f", c.name, c.got, c.want, c.tol)
		}
	}
}

func TestUniformAndStreams(t *testing.T) {
	a, b := newRand(5, 1), newRand(5, 2)
	var sum float64
	var same int
	const n = 100000
	for range n {
		u := a.float64()
		if u < 0 || u >= 1 {
			t.Fatalf("float64() = %v outside [0, 1)", u)
		}
		sum += u
		if a.uint64() == b.uint64() {
			same++
		}
	}
	if m := sum / n; math.Abs(m-0.5) > 0.004 {
		t.Errorf("uniform mean %.4f", m)
	}
	if same > 0 {
		t.Errorf("streams 1 and 2 of one seed agree on %d draws", same)
	}
}

// BenchmarkNormal compares the package's ziggurat on xoshiro256++, one
// draw at a time and filled a control block (32) at a time as Machine
// draws them, with math/rand/v2's NormFloat64 on a PCG source. One op is
// 1024 normal numbers.
func BenchmarkNormal(b *testing.B) {
	var buf [1024]float64
	b.Run("source", func(b *testing.B) {
		r := newRand(1, 1)
		for b.Loop() {
			for i := range buf {
				buf[i] = r.norm()
			}
		}
	})
	b.Run("source-fill32", func(b *testing.B) {
		r := newRand(1, 1)
		for b.Loop() {
			for i := 0; i < len(buf); i += 32 {
				r.fillNorm(buf[i : i+32])
			}
		}
	})
	b.Run("math-rand-v2", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 1))
		for b.Loop() {
			for i := range buf {
				buf[i] = r.NormFloat64()
			}
		}
	})
}
