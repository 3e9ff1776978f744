package stft

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fastLog is logTo for one value, computed in float64 (scale 1 keeps the
// float32 rounding out: the comparison below is on the float64 value that
// logTo rounds, recovered by checking float32(want) too).
func fastLog(x float64) float64 {
	var d [1]float32
	logTo(d[:], []float64{x}, 1, 0, 0)
	return float64(d[0])
}

// TestLogTo compares logTo with math.Log over the whole positive range
// (random exponents and mantissas, values near 1 and powers of two) and the
// special values: the float32 results are equal or one float32 step apart
// (the table log's absolute error, below 1e-12, can only move a value across
// a float32 rounding boundary), and the floor and eps are applied.
func TestLogTo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	check := func(x float64) {
		got, want := fastLog(x), float64(float32(math.Log(max(x, 0)))) // floor 0 clamps negatives
		ulp := float64(math.Nextafter32(float32(math.Abs(want)), float32(math.Inf(1)))) - math.Abs(want)
		if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && got != want && !(math.Abs(got-want) <= ulp+1e-12)) {
			t.Fatalf("fastLog(%g) = %.17g, want %.17g", x, got, want)
		}
	}
	for range 200000 {
		check(math.Ldexp(1+rng.Float64(), rng.IntN(2000)-1000))
		check(1 + (rng.Float64()-0.5)*1e-6)
	}
	for e := -1074; e <= 1023; e++ {
		check(math.Ldexp(1, e))
	}
	for _, x := range []float64{0, -0.0, -1, math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64, math.MaxFloat64, 0x1p-23, 1e-10} {
		check(x)
	}
	// Floor, eps and scale.
	d := make([]float32, 3)
	logTo(d, []float64{0, 1e-9, 100}, 10/math.Ln10, 1e-6, 1e-3)
	for i, want := range []float64{10 * math.Log10(1e-6+1e-3), 10 * math.Log10(1e-6+1e-3), 10 * math.Log10(100+1e-3)} {
		if math.Abs(float64(d[i])-want) > 1e-5*math.Abs(want) {
			t.Errorf("logTo floor/eps [%d] = %g, want %g", i, d[i], want)
		}
	}
}

func BenchmarkLog(b *testing.B) {
	x := make([]float64, 128)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = math.Exp(rng.NormFloat64() * 10)
	}
	dst := make([]float32, len(x))
	b.Run("logTo", func(b *testing.B) {
		for range b.N {
			logTo(dst, x, 1, 0, 1e-10)
		}
	})
	b.Run("math.Log", func(b *testing.B) {
		for range b.N {
			for i, v := range x {
				dst[i] = float32(math.Log(v + 1e-10))
			}
		}
	})
}
