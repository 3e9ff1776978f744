package indicator

import "math"

// Indicators of a snapshot x₁…xₙ. Central moments use 1/n:
// mₖ = (1/n) Σ (xᵢ − mean)ᵏ.
type Indicators struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	// RMS = √((1/n) Σ xᵢ²), about zero, not about the mean (the vibration
	// convention; for a zero-mean accelerometer signal it equals Std).
	RMS float64 `json:"rms"`
	// Std = √m₂, the population standard deviation.
	Std float64 `json:"std"`
	// Peak = max |xᵢ|.
	Peak float64 `json:"peak"`
	// Crest = Peak / RMS (√2 for a sine, about 3 to 4.5 for Gaussian
	// noise of a few thousand samples); NaN when RMS is 0.
	Crest float64 `json:"crest"`
	// Kurtosis is Pearson's kurtosis m₄/m₂², 3 for a normal distribution
	// (not the excess kurtosis; scipy.stats.kurtosis(x, fisher=False,
	// bias=True)). 1.5 for a sine; impulsive bearing faults push it well
	// above 3. NaN when m₂ is 0.
	Kurtosis float64 `json:"kurtosis"`
	// Skewness is m₃/m₂^(3/2) (scipy.stats.skew(x, bias=True)); NaN when m₂
	// is 0.
	Skewness float64 `json:"skewness"`
}

// Compute returns the indicators of x by two passes in float64. It does not
// allocate. For no samples every field but N is NaN.
func Compute(x []float32) Indicators {
	var a Accumulator
	a.Add(x)
	return a.Result()
}

// Accumulator gathers indicators over a snapshot given in pieces. The zero
// value is empty and ready; it allocates nothing.
type Accumulator struct {
	n              int64
	mean           float64
	m2, m3, m4     float64 // sums of central powers: Σ(x−mean)ᵏ
	sumSq, absPeak float64
}

// Add folds the samples x into the accumulator: their moments are computed
// by two passes and merged with the running ones, so the result does not
// depend on how the snapshot is cut (up to rounding).
func (a *Accumulator) Add(x []float32) {
	if len(x) == 0 {
		return
	}
	var s, sq, pk float64
	for _, v := range x {
		f := float64(v)
		s += f
		sq += f * f
		if a := math.Abs(f); a > pk {
			pk = a
		}
	}
	n := float64(len(x))
	mean := s / n
	var c2, c3, c4 float64
	for _, v := range x {
		d := float64(v) - mean
		d2 := d * d
		c2 += d2
		c3 += d2 * d
		c4 += d2 * d2
	}
	a.Merge(Accumulator{n: int64(len(x)), mean: mean, m2: c2, m3: c3, m4: c4, sumSq: sq, absPeak: pk})
}

// Merge folds b into a (pairwise update of Chan, Golub & LeVeque 1979 for
// m₂ and Pébay 2008 for m₃, m₄).
func (a *Accumulator) Merge(b Accumulator) {
	if b.n == 0 {
		return
	}
	if a.n == 0 {
		*a = b
		return
	}
	na, nb := float64(a.n), float64(b.n)
	n := na + nb
	d := b.mean - a.mean
	d2 := d * d
	m2 := a.m2 + b.m2 + d2*na*nb/n
	m3 := a.m3 + b.m3 + d2*d*na*nb*(na-nb)/(n*n) + 3*d*(na*b.m2-nb*a.m2)/n
	m4 := a.m4 + b.m4 + d2*d2*na*nb*(na*na-na*nb+nb*nb)/(n*n*n) +
		6*d2*(na*na*b.m2+nb*nb*a.m2)/(n*n) + 4*d*(na*b.m3-nb*a.m3)/n
	a.mean += d * nb / n
	a.m2, a.m3, a.m4 = m2, m3, m4
	a.n += b.n
	a.sumSq += b.sumSq
	a.absPeak = max(a.absPeak, b.absPeak)
}

// N returns the number of samples added.
func (a *Accumulator) N() int64 { return a.n }

// Reset empties the accumulator.
func (a *Accumulator) Reset() { *a = Accumulator{} }

// Result returns the indicators of everything added so far.
func (a *Accumulator) Result() Indicators {
	if a.n == 0 {
		nan := math.NaN()
		return Indicators{Mean: nan, RMS: nan, Std: nan, Peak: nan, Crest: nan, Kurtosis: nan, Skewness: nan}
	}
	n := float64(a.n)
	m2, m3, m4 := a.m2/n, a.m3/n, a.m4/n
	r := Indicators{
		N: int(a.n), Mean: a.mean, RMS: math.Sqrt(a.sumSq / n), Std: math.Sqrt(m2), Peak: a.absPeak,
		Crest: math.NaN(), Kurtosis: math.NaN(), Skewness: math.NaN(),
	}
	if r.RMS > 0 {
		r.Crest = r.Peak / r.RMS
	}
	if m2 > 0 {
		r.Kurtosis = m4 / (m2 * m2)
		r.Skewness = m3 / (m2 * math.Sqrt(m2))
	}
	return r
}
