package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMSEAndL1(t *testing.T) {
	pred := []float32{1, 2, 3, 4}
	target := []float32{0, 2, 5, 3.5}
	g := make([]float32, 4)
	// MSE = (1 + 0 + 4 + 0.25)/4; grad = 2(p−t)/4.
	if l := MSE(g, pred, target); l != 5.25/4 {
		t.Fatalf("MSE %v", l)
	}
	for i, w := range []float32{0.5, 0, -1, 0.25} {
		if g[i] != w {
			t.Fatalf("MSE grad %v", g)
		}
	}
	if l := MSESum(nil, pred, target, 0.5); l != 5.25/2 {
		t.Fatalf("MSESum %v", l)
	}
	// L1 = (1 + 0 + 2 + 0.5)/4; grad = sign/4.
	if l := L1(g, pred, target); l != 3.5/4 {
		t.Fatalf("L1 %v", l)
	}
	for i, w := range []float32{0.25, 0, -0.25, 0.25} {
		if g[i] != w {
			t.Fatalf("L1 grad %v", g)
		}
	}
	if MSE(nil, nil, nil) != 0 || L1(nil, nil, nil) != 0 {
		t.Fatal("empty loss is not 0")
	}
}

// TestGaussianNLLGradients checks the gradients of GaussianNLLSum (with an
// element-wise, a per-feature and a scalar log-variance) against central
// differences of the float64 loss.
func TestGaussianNLLGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const n = 12
	for _, v := range []int{12, 4, 1} {
		mu, x, lv := make([]float32, n), make([]float32, n), make([]float32, v)
		for i := range mu {
			mu[i], x[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for i := range lv {
			lv[i] = float32(0.5 * rng.NormFloat64())
		}
		gmu, glv := make([]float32, n), make([]float32, v)
		GaussianNLLSum(gmu, glv, mu, lv, x, 0.25)
		const eps = 1e-2
		num := func(p []float32, i int) float64 {
			old := p[i]
			p[i] = old + eps
			a := GaussianNLLSum(nil, nil, mu, lv, x, 0.25)
			p[i] = old - eps
			b := GaussianNLLSum(nil, nil, mu, lv, x, 0.25)
			p[i] = old
			return (a - b) / (2 * eps)
		}
		for i := range mu {
			if n := num(mu, i); math.Abs(n-float64(gmu[i])) > 1e-3*max(1, math.Abs(n)) {
				t.Fatalf("len(logVar) %d: gradMu[%d] = %v, numeric %v", v, i, gmu[i], n)
			}
		}
		for i := range lv {
			if n := num(lv, i); math.Abs(n-float64(glv[i])) > 1e-3*max(1, math.Abs(n)) {
				t.Fatalf("len(logVar) %d: gradLogVar[%d] = %v, numeric %v", v, i, glv[i], n)
			}
		}
	}
	// The value at mu = x, logVar = 0 is ½·log 2π per value.
	z := []float32{0, 0}
	if l := GaussianNLL(nil, nil, z, z, z); math.Abs(l-0.5*math.Log(2*math.Pi)) > 1e-15 {
		t.Fatalf("GaussianNLL at the mean %v", l)
	}
}
