package indicator

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

func rel(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }

func TestHand(t *testing.T) {
	// x = {0, 0, 0, 2}: mean 0.5; deviations −0.5 (×3), 1.5.
	// m2 = (3·0.25 + 2.25)/4 = 0.75; m3 = (3·(−0.125) + 3.375)/4 = 0.75;
	// m4 = (3·0.0625 + 5.0625)/4 = 1.3125.
	// kurtosis = 1.3125/0.5625 = 7/3; skewness = 0.75/0.75^1.5 = 1/√0.75;
	// RMS = √(4/4) = 1; peak 2; crest 2.
	r := Compute([]float32{0, 0, 0, 2})
	want := Indicators{N: 4, Mean: 0.5, RMS: 1, Std: math.Sqrt(0.75), Peak: 2, Crest: 2,
		Kurtosis: 7.0 / 3, Skewness: 1 / math.Sqrt(0.75)}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"mean", r.Mean, want.Mean}, {"rms", r.RMS, want.RMS}, {"std", r.Std, want.Std},
		{"peak", r.Peak, want.Peak}, {"crest", r.Crest, want.Crest},
		{"kurtosis", r.Kurtosis, want.Kurtosis}, {"skewness", r.Skewness, want.Skewness},
	} {
		if rel(c.got, c.want) > 1e-15 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.N != 4 {
		t.Errorf("N = %d", r.N)
	}
	// ±1 square wave: every deviation is ±1, so kurtosis 1, crest 1.
	sq := Compute([]float32{1, -1, 1, -1})
	if sq.Kurtosis != 1 || sq.Crest != 1 || sq.RMS != 1 || sq.Skewness != 0 {
		t.Errorf("square wave %+v", sq)
	}
	// Constant: kurtosis and skewness undefined; zeros: crest undefined too.
	if c := Compute([]float32{2, 2, 2}); !math.IsNaN(c.Kurtosis) || c.Crest != 1 || c.RMS != 2 {
		t.Errorf("constant %+v", c)
	}
	if z := Compute(make([]float32, 8)); !math.IsNaN(z.Crest) || z.RMS != 0 {
		t.Errorf("zeros %+v", z)
	}
	if e := Compute(nil); e.N != 0 || !math.IsNaN(e.RMS) {
		t.Errorf("empty %+v", e)
	}
}

func TestSine(t *testing.T) {
	// A sine over whole periods: RMS A/√2, crest √2, kurtosis 3/2
	// (E sin⁴ / (E sin²)² = (3/8)/(1/4)), skewness 0. 64 periods of 400
	// samples; float32 samples limit agreement to about 1e-7.
	const A = 2.5
	x := make([]float32, 64*400)
	for i := range x {
		x[i] = float32(A * math.Sin(2*math.Pi*float64(i)/400)) // sample 100 is the peak
	}
	r := Compute(x)
	if rel(r.RMS, A/math.Sqrt2) > 1e-7 || rel(r.Crest, math.Sqrt2) > 1e-6 || rel(r.Kurtosis, 1.5) > 1e-6 || math.Abs(r.Skewness) > 1e-6 {
		t.Errorf("sine %+v", r)
	}
}

// TestGolden compares with numpy and scipy.stats (kurtosis fisher=False,
// bias=True; skew bias=True) from testdata/gen/indicator_golden.py, within
// 1e-12 relative.
func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/indicator_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name                                            string
			X                                               []float64
			Mean, Std, RMS, Peak, Crest, Kurtosis, Skewness float64
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 3 {
		t.Fatalf("%d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		x := make([]float32, len(c.X))
		for i, v := range c.X {
			x[i] = float32(v) // exact: the values are float32
		}
		r := Compute(x)
		for _, q := range []struct {
			name      string
			got, want float64
		}{
			{"mean", r.Mean, c.Mean}, {"std", r.Std, c.Std}, {"rms", r.RMS, c.RMS}, {"peak", r.Peak, c.Peak},
			{"crest", r.Crest, c.Crest}, {"kurtosis", r.Kurtosis, c.Kurtosis}, {"skewness", r.Skewness, c.Skewness},
		} {
			if rel(q.got, q.want) > 1e-12 {
				t.Errorf("%s %s = %.17g, scipy %.17g", c.Name, q.name, q.got, q.want)
			}
		}
	}
}

// Streaming in uneven pieces and merging two halves agree with one pass.
func TestStreamingAndMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 2560)
	for i := range x {
		x[i] = float32(5 + r.NormFloat64()*0.2 + 3*math.Pow(r.Float64(), 40)) // offset + rare spikes
	}
	whole := Compute(x)
	var a Accumulator
	for i := 0; i < len(x); {
		n := min(len(x)-i, 1+r.IntN(300))
		a.Add(x[i : i+n])
		i += n
	}
	var h1, h2 Accumulator
	h1.Add(x[:1000])
	h2.Add(x[1000:])
	h1.Merge(h2)
	for _, got := range []Indicators{a.Result(), h1.Result()} {
		if got.N != whole.N || rel(got.Mean, whole.Mean) > 1e-13 || rel(got.RMS, whole.RMS) > 1e-13 ||
			rel(got.Std, whole.Std) > 1e-11 || rel(got.Kurtosis, whole.Kurtosis) > 1e-10 ||
			rel(got.Skewness, whole.Skewness) > 1e-10 || got.Peak != whole.Peak {
			t.Errorf("pieces %+v\n whole %+v", got, whole)
		}
	}
	if a.N() != 2560 {
		t.Errorf("N %d", a.N())
	}
	a.Reset()
	if a.N() != 0 {
		t.Errorf("reset")
	}
	if n := testing.AllocsPerRun(10, func() { Compute(x) }); n != 0 {
		t.Errorf("Compute allocates %v", n)
	}
}

func BenchmarkCompute(b *testing.B) {
	x := make([]float32, 2560) // one FEMTO snapshot
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	b.SetBytes(int64(4 * len(x)))
	b.ReportAllocs()
	for b.Loop() {
		Compute(x)
	}
}
