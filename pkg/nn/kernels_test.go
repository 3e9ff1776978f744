package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
	"github.com/mhmstream/mhm/pkg/nn/internal/vec"
)

// dcaseCurve trains the DCASE baseline (dcaseNet, Adam 1e-3, batch 512,
// MSE) for 3 epochs of 8 steps on 4096 vectors of rank 16 plus noise and
// returns the validation loss after each epoch (512 held-out vectors,
// inference mode), with every product and elementwise pass on the pure-Go
// kernels (pureGo) or on the ones chosen for this machine. With nudge ±1,
// every training value is first moved by one float32 ulp up or down.
func dcaseCurve(t *testing.T, pureGo bool, nudge float64) (val []float64) {
	gemm.SetPureGo(pureGo)
	vec.SetPureGo(pureGo)
	defer gemm.SetPureGo(false)
	defer vec.SetPureGo(false)
	rng := rand.New(rand.NewPCG(1, 1))
	const n, nval, d, r = 4096, 512, 640, 16
	basis := make([]float64, r*d)
	for i := range basis {
		basis[i] = rng.NormFloat64() / math.Sqrt(r)
	}
	x := NewTensor(n+nval, Shape{d})
	for i := 0; i < n+nval; i++ {
		var z [r]float64
		for k := range z {
			z[k] = rng.NormFloat64()
		}
		row := x.Data[i*d : (i+1)*d]
		for j := range row {
			v := 0.1 * rng.NormFloat64()
			for k := range z {
				v += z[k] * basis[k*d+j]
			}
			row[j] = float32(v)
		}
	}
	train, valX := x.Slice(0, n), x.Slice(n, n+nval)
	if nudge != 0 {
		for i, v := range train.Data {
			train.Data[i] = math.Nextafter32(v, float32(math.Inf(int(nudge))))
		}
	}
	net := dcaseNet(rand.New(rand.NewPCG(2, 2)))
	h, err := Fit(NewLossModel(net, MSE), NewAdam(net.Params(), 1e-3), train, Tensor{},
		&FitConfig{Epochs: 3, BatchSize: 512, Seed: 3, ValX: valX})
	if err != nil {
		t.Fatal(err)
	}
	return h.ValLoss
}

// relDiff returns the largest relative difference between two curves.
func relDiff(a, b []float64) float64 {
	var w float64
	for i := range a {
		w = max(w, math.Abs(a[i]-b[i])/math.Abs(b[i]))
	}
	return w
}

// TestDCASECurveMatchesPureGo: training the DCASE preset with the fast
// kernels (AVX2 GEMM and elementwise assembly) gives the validation loss
// curve of the pure-Go kernels (what -tags noasm builds) for the same seed
// within float32 tolerance (issue 8). Both runs are made in this process:
// gemm.SetPureGo and vec.SetPureGo switch every product and pass to the Go
// loops.
//
// "Float32 tolerance" has to be measured, not assumed: the two kernel sets
// differ only in rounding (fused multiply-adds, the order of the partial
// sums in a GEMM tile and in the BatchNorm statistics; one step's
// gradients agree to 3e-6 relative), but Adam divides each gradient by its
// own running magnitude, so its first steps move every weight by ±lr
// whatever the gradient's size, and components that are rounding noise
// (the bias before a BatchNorm has a gradient of exactly zero in theory)
// take a random sign. After 24 steps the curves of two runs that differ
// only by rounding are about 1e-4 to 1e-3 apart. The test measures that
// spread directly, as the difference between two fast runs whose training
// data differ by one float32 ulp (up, and down), and requires the fast and pure-Go curves
// to be no further apart than 4 times that (and never more than 1%).
// Measured: fast vs pure Go 0.54%, spread 0.38%. A wrong kernel moves the
// curve by more: leaving the last of 512 rows out of BatchNorm's
// statistics gave 1.9% (and the validation loss falls by 10-25% per
// epoch here).
func TestDCASECurveMatchesPureGo(t *testing.T) {
	if gemm.Kernels() == "go" && vec.Kernels() == "go" {
		t.Skip("no assembly kernels in this build (-tags noasm or no AVX2): nothing to compare")
	}
	fast := dcaseCurve(t, false, 0)
	pure := dcaseCurve(t, true, 0)
	up, down := dcaseCurve(t, false, 1), dcaseCurve(t, false, -1)
	spread := max(relDiff(up, fast), relDiff(down, fast))
	diff := relDiff(fast, pure)
	t.Logf("validation loss per epoch: fast %.6f, pure Go %.6f, fast with the data 1 ulp up %.6f, down %.6f", fast, pure, up, down)
	t.Logf("largest relative difference: fast vs pure Go %.2g, rounding spread (1 ulp) %.2g", diff, spread)
	if fast[len(fast)-1] > 0.8*fast[0] {
		t.Fatalf("validation loss did not fall: %v", fast)
	}
	if limit := min(max(4*spread, 1e-5), 1e-2); diff > limit {
		t.Errorf("fast and pure-Go curves differ by %.2g relative, more than %.2g (4 × the rounding spread %.2g, at most 1%%)", diff, limit, spread)
	}
}
