package threshold

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/mathext"
)

func approx(a, b, rel, abs float64) bool {
	return math.Abs(a-b) <= abs+rel*math.Abs(b)
}

func TestQuantileSortedHand(t *testing.T) {
	// numpy.quantile([1, 2, 3, 4], q), method "linear": h = 3q.
	x := []float64{1, 2, 3, 4}
	for _, c := range []struct{ q, want float64 }{
		{0, 1},
		{0.5, 2.5},           // h = 1.5: 2 + 0.5·(3−2)
		{0.9, 3.7},           // h = 2.7: 3 + 0.7·(4−3)
		{1, 4},               // h = 3: last
		{1.0 / 3, 2},         // h = 1 exactly
		{0.99, 3 + 0.97*1.0}, // h = 2.97
	} {
		if got := QuantileSorted(x, c.q); !approx(got, c.want, 1e-15, 1e-15) {
			t.Errorf("QuantileSorted(%v, %v) = %v, want %v", x, c.q, got, c.want)
		}
	}
	if got := QuantileSorted([]float64{7}, 0.99); got != 7 {
		t.Errorf("single value: got %v", got)
	}
}

func TestFitHand(t *testing.T) {
	// mean 5, Σ(x−5)² = 32, sd with n−1 = √(32/7).
	x := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	sd := math.Sqrt(32.0 / 7)
	th, err := Fit(MeanStd, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	if th.Param != 3 || !approx(th.Value, 5+3*sd, 1e-15, 0) {
		t.Errorf("mean-std default: param %v value %v, want 3 and %v", th.Param, th.Value, 5+3*sd)
	}
	st := th.Stats
	if st.N != 8 || st.Mean != 5 || !approx(st.Std, sd, 1e-15, 0) || st.Min != 2 || st.Max != 9 {
		t.Errorf("stats %+v", st)
	}
	// numpy.quantile(x, 0.5) = 4.5 (h = 3.5 between 4 and 5); 0.9: h = 6.3 → 7 + 0.3·2.
	if st.Q50 != 4.5 || !approx(st.Q90, 7.6, 1e-15, 0) {
		t.Errorf("q50 %v q90 %v", st.Q50, st.Q90)
	}
	th, err = Fit(Quantile, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	// q = 0.99: h = 6.93 → 7 + 0.93·2 = 8.86
	if th.Param != 0.99 || !approx(th.Value, 8.86, 1e-14, 0) || th.Gamma != nil {
		t.Errorf("quantile default: %+v", th)
	}
	if !th.Above(8.87) || th.Above(th.Value) {
		t.Errorf("Above is not strict >")
	}
}

func TestFitGammaResidual(t *testing.T) {
	// For x = {1, 2}: s = ln 1.5 − ln(2)/2. The MLE shape solves
	// ln k − ψ(k) = s; check with gonum's independent digamma, and the
	// scale = mean/k.
	g, err := FitGamma([]float64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	s := math.Log(1.5) - math.Log(2)/2
	// gonum's Digamma is accurate to about 5e-11.
	if r := math.Log(g.Shape) - mathext.Digamma(g.Shape) - s; math.Abs(r) > 1e-10 {
		t.Errorf("shape %v: residual %v", g.Shape, r)
	}
	if r := logMinusDigamma(g.Shape) - s; math.Abs(r) > 1e-15 {
		t.Errorf("shape %v: own residual %v", g.Shape, r)
	}
	if !approx(g.Scale, 1.5/g.Shape, 1e-15, 0) || g.Offset != 0 {
		t.Errorf("scale %v offset %v", g.Scale, g.Offset)
	}
}

func TestSpecialFunctions(t *testing.T) {
	const euler = 0.57721566490153286061
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"ψ(1)", digamma(1), -euler},                       // DLMF 5.4.12
		{"ψ(1/2)", digamma(0.5), -euler - 2*math.Ln2},      // DLMF 5.4.13
		{"ψ(10)", digamma(10), 2.251752589066721107647456}, // H₉ − γ
		{"ψ'(1)", trigamma(1), math.Pi * math.Pi / 6},      // DLMF 5.15.2
		{"ψ'(1/2)", trigamma(0.5), math.Pi * math.Pi / 2},  // DLMF 5.15.3
		{"ψ'(20)", trigamma(20), 0.051270822935203119},     // π²/6 − Σ_{n=1}^{19} 1/n²
		{"ψ(1e-3)", digamma(1e-3), -1000.5755719318103006}, // ψ(x+1) − 1/x
		{"1−xψ'(x), x=1e6", oneMinusXTrigamma(1e6), -5.000001666666666e-07},
	} {
		if !approx(c.got, c.want, 2e-15, 1e-15) {
			t.Errorf("%s = %.17g, want %.17g", c.name, c.got, c.want)
		}
	}
}

// TestSpecialGolden checks ψ and ψ' against scipy.special.digamma and
// polygamma(1, x) on [1e-3, 1e6] (testdata/gen/threshold_golden.py), within
// 1e-14 relative + 1e-14 absolute. (gonum's mathext.Digamma is only good to
// about 5e-11, which is why the package has its own.)
func TestSpecialGolden(t *testing.T) {
	var g struct {
		Special struct{ X, Digamma, Trigamma []float64 }
	}
	readGolden(t, &g)
	if len(g.Special.X) < 50 {
		t.Fatalf("golden file has %d special points", len(g.Special.X))
	}
	for i, x := range g.Special.X {
		if got, want := digamma(x), g.Special.Digamma[i]; !approx(got, want, 1e-14, 1e-14) {
			t.Errorf("ψ(%v) = %.17g, scipy %.17g", x, got, want)
		}
		if got, want := trigamma(x), g.Special.Trigamma[i]; !approx(got, want, 1e-14, 0) {
			t.Errorf("ψ'(%v) = %.17g, scipy %.17g", x, got, want)
		}
		if x > 10 {
			// the series branch of 1 − xψ'(x) against the cancelling direct form
			if got, want := oneMinusXTrigamma(x), 1-x*g.Special.Trigamma[i]; !approx(got, want, 1e-15*x*x, 0) {
				t.Errorf("1−xψ'(%v): series %v, from scipy %v", x, got, want)
			}
		}
	}
}

func readGolden(t *testing.T, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/threshold_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

type goldenCase struct {
	Name        string    `json:"name"`
	Data        []float64 `json:"data"`
	QuantileQ   []float64 `json:"quantile_q"`
	Quantile    []float64 `json:"quantile"`
	Mean        float64   `json:"mean"`
	Std         float64   `json:"std_ddof1"`
	GammaOffset float64   `json:"gamma_offset"`
	GammaShape  float64   `json:"gamma_shape"`
	GammaScale  float64   `json:"gamma_scale"`
	PpfQ        []float64 `json:"ppf_q"`
	Ppf         []float64 `json:"ppf"`
}

// TestGolden compares with numpy.quantile, numpy.std(ddof=1),
// scipy.stats.gamma.fit(x+offset, floc=0) and gamma.ppf, from
// testdata/gen/threshold_golden.py (numpy 1.24.2, scipy 1.10.1).
// Tolerances: quantiles and moments 1e-13 relative; gamma shape and scale
// 1e-11 relative (scipy's brentq stops at xtol 2e-12 absolute; measured
// worst 3.4e-13); ppf 1e-12 relative (gonum's inverse incomplete gamma
// against Boost's; measured worst 2.4e-14).
func TestGolden(t *testing.T) {
	var g struct{ Cases []goldenCase }
	readGolden(t, &g)
	if len(g.Cases) < 5 {
		t.Fatalf("golden file has %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			for i, q := range c.QuantileQ {
				th, err := Fit(Quantile, c.Data, q)
				if q == 0 {
					th, err = Fit(Quantile, c.Data, 1e-300) // 0 selects the default
				}
				if err != nil {
					t.Fatal(err)
				}
				if !approx(th.Value, c.Quantile[i], 1e-13, 1e-15) {
					t.Errorf("quantile %v: %.17g, numpy %.17g", q, th.Value, c.Quantile[i])
				}
			}
			st, err := Summarize(c.Data)
			if err != nil {
				t.Fatal(err)
			}
			if !approx(st.Mean, c.Mean, 1e-13, 1e-15) || !approx(st.Std, c.Std, 1e-13, 0) {
				t.Errorf("mean %v std %v, numpy %v %v", st.Mean, st.Std, c.Mean, c.Std)
			}
			for i, q := range c.PpfQ {
				th, err := Fit(Gamma, c.Data, q)
				if err != nil {
					t.Fatal(err)
				}
				gf := th.Gamma
				if !approx(gf.Offset, c.GammaOffset, 1e-15, 0) ||
					!approx(gf.Shape, c.GammaShape, 1e-11, 0) || !approx(gf.Scale, c.GammaScale, 1e-11, 0) {
					t.Fatalf("fit %+v, scipy shape %v scale %v offset %v", *gf, c.GammaShape, c.GammaScale, c.GammaOffset)
				}
				if !approx(th.Value, c.Ppf[i], 1e-12, 1e-14) {
					t.Errorf("ppf(%v) = %.17g, scipy %.17g", q, th.Value, c.Ppf[i])
				}
				if gf.Iterations > 8 {
					t.Errorf("Newton took %d steps from Minka's start", gf.Iterations)
				}
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		m      Method
		x      []float64
		p      float64
		target error
	}{
		{"empty", Quantile, nil, 0, ErrEmpty},
		{"nan", MeanStd, []float64{1, math.NaN()}, 0, ErrNotFinite},
		{"inf", Gamma, []float64{1, math.Inf(1)}, 0, ErrNotFinite},
		{"q>1", Quantile, []float64{1, 2}, 1.5, ErrParam},
		{"gamma q=1", Gamma, []float64{1, 2}, 1, ErrParam},
		{"k=NaN", MeanStd, []float64{1, 2}, math.NaN(), ErrParam},
		{"unknown", Method("median"), []float64{1}, 0, ErrMethod},
		{"gamma flat", Gamma, []float64{3, 3, 3}, 0, ErrDegenerate},
		{"gamma one", Gamma, []float64{3}, 0, ErrDegenerate},
	} {
		if _, err := Fit(c.m, c.x, c.p); !errors.Is(err, c.target) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.target)
		}
	}
	// A flat set is fine for the quantile and mean-std methods.
	if th, err := Fit(MeanStd, []float64{3, 3}, 2); err != nil || th.Value != 3 {
		t.Errorf("flat mean-std: %v %v", th, err)
	}
}

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]Method{
		"quantile": Quantile, " Gamma ": Gamma, "mean-std": MeanStd, "sigma": MeanStd, "q": Quantile,
	} {
		if got, err := ParseMethod(in); err != nil || got != want {
			t.Errorf("ParseMethod(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMethod("median"); !errors.Is(err, ErrMethod) {
		t.Errorf("median: %v", err)
	}
	for _, m := range Methods {
		if got, err := ParseMethod(m.String()); err != nil || got != m {
			t.Errorf("round trip %v: %v %v", m, got, err)
		}
	}
}

func TestThresholdJSONRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 300)
	for i := range x {
		x[i] = r.ExpFloat64()
	}
	th, err := Fit(Gamma, x, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(th)
	if err != nil {
		t.Fatal(err)
	}
	var back Threshold
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Method != th.Method || back.Value != th.Value || back.Stats != th.Stats || *back.Gamma != *th.Gamma {
		t.Errorf("round trip changed the threshold:\n%s\n%+v", b, back)
	}
	if err := back.Validate(); err != nil {
		t.Error(err)
	}
	// The fitted quantile reproduces the value.
	if v := back.Gamma.Quantile(0.95); v != th.Value {
		t.Errorf("GammaFit.Quantile %v, Value %v", v, th.Value)
	}
	// An exponential sample: shape near 1.
	if math.Abs(th.Gamma.Shape-1) > 0.15 {
		t.Errorf("shape %v for exponential data", th.Gamma.Shape)
	}
	bad := []string{
		`{"method":"median","param":0.9,"value":1}`,
		`{"method":"gamma","param":0.9,"value":1}`,
		`{"method":"quantile","param":2,"value":1}`,
	}
	for _, s := range bad {
		var th Threshold
		err := json.Unmarshal([]byte(s), &th)
		if err == nil {
			err = th.Validate()
		}
		if err == nil {
			t.Errorf("%s: accepted", s)
		}
	}
}
