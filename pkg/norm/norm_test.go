package norm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestFitApplyInvert(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, dim = 2000, 3
	x := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		x[i*dim] = float32(5 + 2*rng.NormFloat64())
		x[i*dim+1] = float32(-3 + 0.5*rng.NormFloat64())
		x[i*dim+2] = 7 // constant feature
	}
	s := Fit(x, n, dim, 0)
	if math.Abs(float64(s.Mean[0])-5) > 0.15 || math.Abs(float64(s.Std[0])-2) > 0.1 {
		t.Errorf("feature 0: mean %v std %v, want about 5 and 2", s.Mean[0], s.Std[0])
	}
	if s.Std[2] != DefaultMinStd {
		t.Errorf("constant feature: std %v, want the floor %v", s.Std[2], DefaultMinStd)
	}
	z := make([]float32, len(x))
	s.Apply(z, x, n)
	// The standardised data has mean 0 and deviation 1 per varying feature.
	for j := 0; j < 2; j++ {
		var m, v float64
		for i := 0; i < n; i++ {
			m += float64(z[i*dim+j])
		}
		m /= n
		for i := 0; i < n; i++ {
			d := float64(z[i*dim+j]) - m
			v += d * d
		}
		if math.Abs(m) > 1e-5 || math.Abs(math.Sqrt(v/n)-1) > 1e-4 {
			t.Errorf("feature %d after Apply: mean %v std %v", j, m, math.Sqrt(v/n))
		}
	}
	back := make([]float32, len(x))
	s.Invert(back, z, n)
	for i := range x {
		if math.Abs(float64(back[i]-x[i])) > 1e-4*math.Max(1, math.Abs(float64(x[i]))) {
			t.Fatalf("Invert(Apply(x))[%d] = %v, want %v", i, back[i], x[i])
		}
	}
	// In place.
	s.Apply(x, x, n)
	for i := range x {
		if x[i] != z[i] {
			t.Fatalf("in-place Apply differs at %d", i)
		}
	}
}

func TestMarshalRoundTripAndErrors(t *testing.T) {
	s := &Standardizer{Mean: []float32{1, -2}, Std: []float32{0.5, 3}}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Standardizer
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Mean[1] != -2 || got.Std[0] != 0.5 || got.Dim() != 2 {
		t.Errorf("round trip: %+v", got)
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)-1],
		"zero std":  func() []byte { c := append([]byte(nil), b...); copy(c[4+8:], []byte{0, 0, 0, 0}); return c }(),
	} {
		if err := got.UnmarshalBinary(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestApplyAllocatesNothing(t *testing.T) {
	s := Identity(640)
	x := make([]float32, 64*640)
	if a := testing.AllocsPerRun(10, func() { s.Apply(x, x, 64) }); a != 0 {
		t.Errorf("Apply allocates %v times", a)
	}
}
