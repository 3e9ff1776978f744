package threshold

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrAggregation is returned by [ParseAggregation] for a malformed name.
var ErrAggregation = errors.New("threshold: bad aggregation")

// AggKind is the reduction an [Aggregation] applies.
type AggKind uint8

// The aggregation kinds.
const (
	// AggMean is the arithmetic mean of the patch scores (the DCASE
	// baselines' clip score).
	AggMean AggKind = iota
	// AggMax is the largest patch score.
	AggMax
	// AggTopK is the mean of the K largest patch scores, or of the
	// ⌈Frac·n⌉ largest when K is 0.
	AggTopK
)

// Aggregation reduces the scores of the patches of a clip or window to one
// score. The zero value is the mean.
//
// Top-k: the mean of the k largest scores, with k = K when K > 0, else
// k = ⌈Frac·n⌉ for n scores; k is clamped to [1, n], so top-k of fewer than
// k scores is their mean.
type Aggregation struct {
	Kind AggKind
	K    int     // AggTopK: number of patches (takes precedence over Frac)
	Frac float64 // AggTopK: share of patches in (0, 1], used when K == 0
}

// ParseAggregation parses "mean", "max", "topK" or "top-K" (K an integer
// ≥ 1, e.g. "top5") and "topP%" (P in (0, 100], e.g. "top10%" for the top
// 10 % of patches). It is case-insensitive and the inverse of
// [Aggregation.String].
func ParseAggregation(s string) (Aggregation, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "mean", "":
		return Aggregation{Kind: AggMean}, nil
	case "max":
		return Aggregation{Kind: AggMax}, nil
	}
	rest, ok := strings.CutPrefix(v, "top")
	if !ok {
		return Aggregation{}, fmt.Errorf("%w %q (want mean, max, topK or topP%%)", ErrAggregation, s)
	}
	rest = strings.TrimPrefix(rest, "-")
	if p, ok := strings.CutSuffix(rest, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f > 0 && f <= 100) {
			return Aggregation{}, fmt.Errorf("%w %q: percentage must be in (0, 100]", ErrAggregation, s)
		}
		return Aggregation{Kind: AggTopK, Frac: f / 100}, nil
	}
	k, err := strconv.Atoi(rest)
	if err != nil || k < 1 {
		return Aggregation{}, fmt.Errorf("%w %q: top-k needs an integer k >= 1", ErrAggregation, s)
	}
	return Aggregation{Kind: AggTopK, K: k}, nil
}

// String returns the name [ParseAggregation] accepts: "mean", "max",
// "top5" or "top10%".
func (a Aggregation) String() string {
	switch a.Kind {
	case AggMean:
		return "mean"
	case AggMax:
		return "max"
	case AggTopK:
		if a.K > 0 {
			return "top" + strconv.Itoa(a.K)
		}
		return "top" + strconv.FormatFloat(a.Frac*100, 'g', -1, 64) + "%"
	}
	return fmt.Sprintf("AggKind(%d)", a.Kind)
}

// MarshalText returns [Aggregation.String], so an aggregation is stored by
// name in JSON.
func (a Aggregation) MarshalText() ([]byte, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	return []byte(a.String()), nil
}

// UnmarshalText parses with [ParseAggregation].
func (a *Aggregation) UnmarshalText(b []byte) error {
	v, err := ParseAggregation(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func (a Aggregation) validate() error {
	switch a.Kind {
	case AggMean, AggMax:
		return nil
	case AggTopK:
		if a.K > 0 || (a.K == 0 && a.Frac > 0 && a.Frac <= 1) {
			return nil
		}
		return fmt.Errorf("%w: top-k needs K >= 1 or Frac in (0, 1], have K=%d Frac=%v", ErrAggregation, a.K, a.Frac)
	}
	return fmt.Errorf("%w: unknown kind %d", ErrAggregation, a.Kind)
}

// topK returns how many of n scores the top-k mean averages.
func (a Aggregation) topK(n int) int {
	k := a.K
	if k <= 0 {
		k = int(math.Ceil(a.Frac*float64(n) - 1e-9))
	}
	return max(1, min(k, n))
}

// Apply returns the aggregate of scores; NaN for no scores. It does not
// modify scores. Mean and max do not allocate; top-k allocates a copy of
// scores. It panics on an invalid Aggregation (top-k with neither K ≥ 1
// nor Frac in (0, 1]).
func (a Aggregation) Apply(scores []float64) float64 {
	if err := a.validate(); err != nil {
		panic(err.Error())
	}
	if len(scores) == 0 {
		return math.NaN()
	}
	switch a.Kind {
	case AggMax:
		return slices.Max(scores)
	case AggTopK:
		return topKMean(slices.Clone(scores), a.topK(len(scores)))
	}
	var s float64
	for _, v := range scores {
		s += v
	}
	return s / float64(len(scores))
}

// topKMean returns the mean of the k largest values of x, reordering x
// (quickselect: the k largest end up in x[:k]). 1 ≤ k ≤ len(x).
func topKMean(x []float64, k int) float64 {
	if k < len(x) {
		selectLargest(x, k)
	}
	var s float64
	for _, v := range x[:k] {
		s += v
	}
	return s / float64(k)
}

// selectLargest partially orders x so that x[:k] holds its k largest
// values (in any order). Hoare-partition quickselect with a median-of-three
// pivot; expected O(n), no allocation.
func selectLargest(x []float64, k int) {
	lo, hi := 0, len(x)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// median of three, descending order
		if x[mid] > x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] > x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] > x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		p := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] > p {
				i++
			}
			for x[j] < p {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		// now x[lo..j] >= p and x[i..hi] <= p, j < i
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}
