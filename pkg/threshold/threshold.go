package threshold

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// Errors returned by [Fit], [ParseMethod] and [Threshold.Validate].
var (
	ErrEmpty      = errors.New("threshold: no calibration scores")
	ErrNotFinite  = errors.New("threshold: calibration score is NaN or infinite")
	ErrParam      = errors.New("threshold: parameter out of range")
	ErrDegenerate = errors.New("threshold: calibration scores have no spread")
	ErrMethod     = errors.New("threshold: unknown method")
)

// Method names a way of learning a threshold from calibration scores. Its
// value is the name used on command lines and in JSON.
type Method string

// The threshold methods. See [Fit] for their formulas.
const (
	// Quantile is the empirical q-quantile (numpy linear interpolation).
	Quantile Method = "quantile"
	// Gamma is the q-quantile of a gamma distribution (location 0) fitted
	// to the scores by maximum likelihood.
	Gamma Method = "gamma"
	// MeanStd is mean + k·sd.
	MeanStd Method = "mean-std"
)

// Methods lists every method, in the order of the documentation.
var Methods = []Method{Quantile, Gamma, MeanStd}

// ParseMethod returns the method named s. It accepts the canonical names
// ("quantile", "gamma", "mean-std") case-insensitively, and the aliases
// "q", "gamma-mle", "meanstd", "mean+std" and "sigma".
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "quantile", "q":
		return Quantile, nil
	case "gamma", "gamma-mle":
		return Gamma, nil
	case "mean-std", "meanstd", "mean+std", "sigma":
		return MeanStd, nil
	}
	return "", fmt.Errorf("%w %q (want quantile, gamma or mean-std)", ErrMethod, s)
}

// String returns the method's name.
func (m Method) String() string { return string(m) }

// DefaultParam returns the parameter [Fit] uses when given 0: q = 0.99 for
// [Quantile] and [Gamma], k = 3 for [MeanStd]. It returns NaN for an unknown
// method.
func (m Method) DefaultParam() float64 {
	switch m {
	case Quantile, Gamma:
		return 0.99
	case MeanStd:
		return 3
	}
	return math.NaN()
}

// UnmarshalText parses a method name with [ParseMethod], so that a JSON
// artifact holding an unknown method fails to load.
func (m *Method) UnmarshalText(b []byte) error {
	v, err := ParseMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalText returns the method's name.
func (m Method) MarshalText() ([]byte, error) {
	if _, err := ParseMethod(string(m)); err != nil {
		return nil, err
	}
	return []byte(m), nil
}

// Stats summarises calibration scores. Quantiles use [QuantileSorted]; Std
// is the sample standard deviation with Bessel's correction (n−1), 0 when
// N = 1.
type Stats struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Q50  float64 `json:"q50"`
	Q90  float64 `json:"q90"`
	Q95  float64 `json:"q95"`
	Q99  float64 `json:"q99"`
}

// GammaFit is a gamma distribution fitted by maximum likelihood with its
// location fixed at 0, to the scores shifted by Offset (x + Offset), with
// density f(x) = x^(Shape−1) e^(−x/Scale) / (Γ(Shape) Scale^Shape).
type GammaFit struct {
	Shape float64 `json:"shape"`
	Scale float64 `json:"scale"`
	// Offset was added to every score before fitting; it is 0 when all
	// calibration scores are > 0 (see [Fit]).
	Offset float64 `json:"offset"`
	// Iterations is the number of Newton steps the shape took.
	Iterations int `json:"iterations"`
}

// Quantile returns the q-quantile of the fitted distribution, in score
// units (the offset removed): F⁻¹(q) − Offset.
func (g GammaFit) Quantile(q float64) float64 {
	return distuv.Gamma{Alpha: g.Shape, Beta: 1 / g.Scale}.Quantile(q) - g.Offset
}

// Threshold is a learned decision threshold: a score s is anomalous when
// s > Value. It is a plain value, safe to copy, and marshals to JSON.
type Threshold struct {
	Method Method  `json:"method"`
	Param  float64 `json:"param"` // q for Quantile and Gamma, k for MeanStd
	Value  float64 `json:"value"`
	Stats  Stats   `json:"stats"`
	// Gamma is the fitted distribution; nil unless Method is Gamma.
	Gamma *GammaFit `json:"gamma,omitempty"`
}

// Above reports whether score is above the threshold: score > t.Value.
// A NaN score is not above.
func (t Threshold) Above(score float64) bool { return score > t.Value }

// Validate checks that t is usable: a known method, a finite value and a
// parameter in range. A loader calls it on a threshold read from a file.
func (t Threshold) Validate() error {
	if _, err := ParseMethod(string(t.Method)); err != nil {
		return err
	}
	if err := checkParam(t.Method, t.Param); err != nil {
		return err
	}
	if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
		return fmt.Errorf("%w: threshold value %v is not finite", ErrParam, t.Value)
	}
	if t.Method == Gamma && (t.Gamma == nil || !(t.Gamma.Shape > 0) || !(t.Gamma.Scale > 0)) {
		return fmt.Errorf("%w: gamma threshold without a valid fit", ErrParam)
	}
	return nil
}

// String returns a one-line description, e.g.
// "gamma(q=0.99) = 0.3141 (n=120, mean=0.2, sd=0.05)".
func (t Threshold) String() string {
	name := "q"
	if t.Method == MeanStd {
		name = "k"
	}
	return fmt.Sprintf("%s(%s=%g) = %.6g (n=%d, mean=%.6g, sd=%.6g)",
		t.Method, name, t.Param, t.Value, t.Stats.N, t.Stats.Mean, t.Stats.Std)
}

func checkParam(m Method, p float64) error {
	switch m {
	case Quantile:
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("%w: quantile q = %v not in [0, 1]", ErrParam, p)
		}
	case Gamma:
		if !(p > 0 && p < 1) {
			return fmt.Errorf("%w: gamma quantile q = %v not in (0, 1)", ErrParam, p)
		}
	case MeanStd:
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("%w: k = %v is not finite", ErrParam, p)
		}
	default:
		return fmt.Errorf("%w %q", ErrMethod, m)
	}
	return nil
}

// Fit learns a threshold from calibration scores (higher = more anomalous)
// with the given method. param 0 selects [Method.DefaultParam].
//
//   - Quantile, param q ∈ [0, 1]: Value = QuantileSorted(sorted scores, q).
//   - Gamma, param q ∈ (0, 1): fit shape k and scale θ by maximum likelihood
//     with location 0 (see [FitGamma]) and Value = F⁻¹(q; k, θ) − offset,
//     where offset = 0 when every score is > 0, and otherwise
//     offset = −min + 10⁻³·(max − min), which moves the smallest score to
//     10⁻³ of the range above 0 (scipy's gamma.fit with floc=0 rejects
//     scores ≤ 0; the shift is this package's choice, so prefer Quantile for
//     scores that can be ≤ 0). Needs at least 2 distinct scores.
//   - MeanStd, param k (finite): Value = mean + k·sd, sd with n−1.
//
// Fit does not modify scores; it allocates a sorted copy. It returns
// [ErrEmpty] for no scores, [ErrNotFinite] for a NaN or infinite score,
// [ErrParam] for a parameter out of range, [ErrMethod] for an unknown
// method, and [ErrDegenerate] when Gamma gets scores without spread.
func Fit(method Method, scores []float64, param float64) (Threshold, error) {
	if _, err := ParseMethod(string(method)); err != nil {
		return Threshold{}, err
	}
	if param == 0 {
		param = method.DefaultParam()
	}
	if err := checkParam(method, param); err != nil {
		return Threshold{}, err
	}
	sorted, err := sortedCopy(scores)
	if err != nil {
		return Threshold{}, err
	}
	t := Threshold{Method: method, Param: param, Stats: statsOf(sorted)}
	switch method {
	case Quantile:
		t.Value = QuantileSorted(sorted, param)
	case MeanStd:
		t.Value = t.Stats.Mean + param*t.Stats.Std
	case Gamma:
		g, err := fitGammaSorted(sorted)
		if err != nil {
			return Threshold{}, err
		}
		t.Gamma = &g
		t.Value = g.Quantile(param)
	}
	return t, nil
}

// FitGamma fits a gamma distribution with location 0 to x + offset by
// maximum likelihood, with offset chosen as in [Fit]. The shape k solves
//
//	ln k − ψ(k) = s,   s = ln(mean(y)) − mean(ln y),   y = x + offset
//
// starting from Minka's approximation k₀ = (3 − s + √((s−3)² + 24s)) / (12s)
// and refined by Newton's method on ln k (at most 50 steps, until the
// change of ln k is below 1e-14); the scale is mean(y)/k. These are the
// equations scipy.stats.gamma.fit(y, floc=0) solves (it uses Brent's method).
// FitGamma allocates a sorted copy of x; errors are those of [Fit].
func FitGamma(x []float64) (GammaFit, error) {
	sorted, err := sortedCopy(x)
	if err != nil {
		return GammaFit{}, err
	}
	return fitGammaSorted(sorted)
}

func fitGammaSorted(sorted []float64) (GammaFit, error) {
	n := len(sorted)
	lo, hi := sorted[0], sorted[n-1]
	if !(hi > lo) {
		return GammaFit{}, fmt.Errorf("%w: all %d scores equal %v", ErrDegenerate, n, lo)
	}
	var offset float64
	if lo <= 0 {
		offset = -lo + 1e-3*(hi-lo)
	}
	var sum, sumLog float64
	for _, v := range sorted {
		y := v + offset
		sum += y
		sumLog += math.Log(y)
	}
	mean := sum / float64(n)
	s := math.Log(mean) - sumLog/float64(n)
	if !(s > 1e-15) {
		// Spread so small relative to the mean that the shape is beyond
		// what float64 can resolve.
		return GammaFit{}, fmt.Errorf("%w: ln(mean) − mean(ln) = %g", ErrDegenerate, s)
	}
	k, iters := gammaShape(s)
	return GammaFit{Shape: k, Scale: mean / k, Offset: offset, Iterations: iters}, nil
}

// gammaShape solves ln k − ψ(k) = s for k > 0 (s > 0). Newton on u = ln k:
// g(u) = u − ψ(e^u) − s, g'(u) = 1 − k ψ'(k). g is decreasing and convex in
// u, so Newton from any start converges monotonically after one step.
func gammaShape(s float64) (k float64, iters int) {
	k = (3 - s + math.Sqrt((s-3)*(s-3)+24*s)) / (12 * s)
	u := math.Log(k)
	for iters = 0; iters < 50; iters++ {
		g := logMinusDigamma(k) - s
		dg := oneMinusXTrigamma(k)
		step := g / dg
		u -= step
		k = math.Exp(u)
		if math.Abs(step) < 1e-14 {
			iters++
			break
		}
	}
	return k, iters
}

// QuantileSorted returns the q-quantile (q ∈ [0, 1]) of ascending sorted
// data with numpy's default "linear" interpolation (Hyndman & Fan type 7):
// h = (n−1)·q, Q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). It panics on
// empty data or q outside [0, 1]; it does not check that data is sorted.
func QuantileSorted(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		panic("threshold: quantile of no data")
	}
	if !(q >= 0 && q <= 1) {
		panic("threshold: quantile q outside [0, 1]")
	}
	h := float64(n-1) * q
	i := int(math.Floor(h))
	if i >= n-1 {
		return sorted[n-1]
	}
	f := h - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// Summarize returns the statistics of scores as recorded in a [Threshold].
// It allocates a sorted copy; errors are [ErrEmpty] and [ErrNotFinite].
func Summarize(scores []float64) (Stats, error) {
	sorted, err := sortedCopy(scores)
	if err != nil {
		return Stats{}, err
	}
	return statsOf(sorted), nil
}

func sortedCopy(x []float64) ([]float64, error) {
	if len(x) == 0 {
		return nil, ErrEmpty
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: score %d is %v", ErrNotFinite, i, v)
		}
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s, nil
}

func statsOf(sorted []float64) Stats {
	n := len(sorted)
	// Two-pass mean and variance in float64.
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	mean := sum / float64(n)
	var ss, c float64
	for _, v := range sorted {
		d := v - mean
		ss += d * d
		c += d
	}
	var std float64
	if n > 1 {
		// Corrected two-pass formula (Chan, Golub & LeVeque 1983).
		std = math.Sqrt((ss - c*c/float64(n)) / float64(n-1))
	}
	return Stats{
		N: n, Mean: mean, Std: std, Min: sorted[0], Max: sorted[n-1],
		Q50: QuantileSorted(sorted, 0.5), Q90: QuantileSorted(sorted, 0.9),
		Q95: QuantileSorted(sorted, 0.95), Q99: QuantileSorted(sorted, 0.99),
	}
}
