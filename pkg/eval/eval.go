package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Class labels. Anomalous is the positive class.
const (
	Normal  = 0
	Anomaly = 1
)

// Errors.
var (
	ErrOneClass  = errors.New("eval: need both normal and anomalous samples")
	ErrLabel     = errors.New("eval: label must be 0 (normal) or 1 (anomaly)")
	ErrNotFinite = errors.New("eval: score is NaN")
	ErrParam     = errors.New("eval: parameter out of range")
)

// DefaultMaxFPR is the false-positive-rate limit of DCASE's partial AUC.
const DefaultMaxFPR = 0.1

// Curve is a receiver operating characteristic: point i is the
// (false-positive rate, true-positive rate) of the rule "anomalous when
// score ≥ Thresholds[i]". Thresholds descend through the distinct scores;
// the first point is (0, 0) with threshold +Inf and the last is (1, 1). Tied
// scores form one point, so ties become diagonal segments of the curve.
type Curve struct {
	FPR, TPR, Thresholds []float64
}

type sample struct {
	s float64
	a bool
}

// check validates the inputs and returns the counts of positives and
// negatives. It panics if the lengths differ.
func check(labels []int, scores []float64) (pos, neg int, err error) {
	if len(labels) != len(scores) {
		panic(fmt.Sprintf("eval: %d labels for %d scores", len(labels), len(scores)))
	}
	for i, l := range labels {
		switch l {
		case Anomaly:
			pos++
		case Normal:
			neg++
		default:
			return 0, 0, fmt.Errorf("%w: label %d is %d", ErrLabel, i, l)
		}
		if math.IsNaN(scores[i]) {
			return 0, 0, fmt.Errorf("%w: score %d", ErrNotFinite, i)
		}
	}
	if pos == 0 || neg == 0 {
		return pos, neg, fmt.Errorf("%w: %d anomalous, %d normal", ErrOneClass, pos, neg)
	}
	return pos, neg, nil
}

// ROC returns the ROC curve of scores (higher = more anomalous) against
// labels ([Normal] or [Anomaly]). It allocates the curve and a sorted copy.
// Errors: [ErrLabel], [ErrNotFinite] (NaN score), [ErrOneClass]. It panics
// if the lengths differ.
func ROC(labels []int, scores []float64) (Curve, error) {
	pos, neg, err := check(labels, scores)
	if err != nil {
		return Curve{}, err
	}
	s := make([]sample, len(scores))
	for i := range s {
		s[i] = sample{scores[i], labels[i] == Anomaly}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].s > s[j].s })
	c := Curve{FPR: []float64{0}, TPR: []float64{0}, Thresholds: []float64{math.Inf(1)}}
	var tp, fp int
	for i := 0; i < len(s); {
		v := s[i].s
		for ; i < len(s) && s[i].s == v; i++ {
			if s[i].a {
				tp++
			} else {
				fp++
			}
		}
		c.FPR = append(c.FPR, float64(fp)/float64(neg))
		c.TPR = append(c.TPR, float64(tp)/float64(pos))
		c.Thresholds = append(c.Thresholds, v)
	}
	return c, nil
}

// AUC returns the area under the ROC curve, computed as the Mann-Whitney U
// statistic: the share of (anomalous, normal) pairs in which the anomalous
// sample scores higher, a tie counting one half:
//
//	AUC = (R₊ − P(P+1)/2) / (P·N)
//
// with R₊ the sum of the mid-ranks (ascending, ties averaged) of the P
// anomalous scores among all P+N. This equals the trapezoidal area under
// [Curve] and sklearn's roc_auc_score. Errors as [ROC].
func AUC(labels []int, scores []float64) (float64, error) {
	pos, neg, err := check(labels, scores)
	if err != nil {
		return math.NaN(), err
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	var rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+1+j) / 2 // ranks i+1..j averaged
		for _, k := range idx[i:j] {
			if labels[k] == Anomaly {
				rankSum += mid
			}
		}
		i = j
	}
	p, n := float64(pos), float64(neg)
	return (rankSum - p*(p+1)/2) / (p * n), nil
}

// Area returns the area under the curve for FPR in [0, maxFPR], by the
// trapezoidal rule, with the TPR at FPR = maxFPR linearly interpolated on
// the segment that crosses it. It panics if maxFPR is outside (0, 1].
func (c Curve) Area(maxFPR float64) float64 {
	if !(maxFPR > 0 && maxFPR <= 1) {
		panic(fmt.Sprintf("eval: maxFPR %v outside (0, 1]", maxFPR))
	}
	var a float64
	for i := 1; i < len(c.FPR); i++ {
		x0, x1, y0, y1 := c.FPR[i-1], c.FPR[i], c.TPR[i-1], c.TPR[i]
		if x0 >= maxFPR {
			break
		}
		if x1 > maxFPR {
			y1 = y0 + (y1-y0)*(maxFPR-x0)/(x1-x0)
			x1 = maxFPR
		}
		a += (x1 - x0) * (y0 + y1) / 2
	}
	return a
}

// PartialAUC returns DCASE's partial AUC: the area under the ROC curve for
// false-positive rates from 0 to p, divided by p (Koizumi et al., DCASE 2020
// Task 2: pAUC = (1/p) ∫₀ᵖ TPR d FPR), with the curve linearly interpolated
// at FPR = p. It lies in [0, 1]; a random ranking scores p/2 and a perfect
// one 1. It is not sklearn's roc_auc_score(max_fpr=p), which applies the
// McClish standardisation (see [McClish]); DCASE's baseline scripts call the
// latter. p must be in (0, 1] (else [ErrParam]); other errors as [ROC].
func PartialAUC(labels []int, scores []float64, p float64) (float64, error) {
	if !(p > 0 && p <= 1) {
		return math.NaN(), fmt.Errorf("%w: max FPR %v outside (0, 1]", ErrParam, p)
	}
	c, err := ROC(labels, scores)
	if err != nil {
		return math.NaN(), err
	}
	return c.Area(p) / p, nil
}

// McClish converts DCASE's partial AUC (raw area / p, as [PartialAUC]
// returns) for FPR ≤ p into the McClish-standardised value that sklearn's
// roc_auc_score(max_fpr=p) reports:
//
//	A = pauc·p,  McClish = ½·(1 + (A − p²/2) / (p − p²/2))
//
// so a random ranking maps to 0.5 and a perfect one to 1. It panics if p is
// outside (0, 1].
func McClish(pauc, p float64) float64 {
	if !(p > 0 && p <= 1) {
		panic(fmt.Sprintf("eval: max FPR %v outside (0, 1]", p))
	}
	a := pauc * p
	lo, hi := p*p/2, p
	return 0.5 * (1 + (a-lo)/(hi-lo))
}

// Confusion counts decisions against labels. Positive = anomalous.
type Confusion struct {
	TP int `json:"tp"` // anomalous, flagged
	FP int `json:"fp"` // normal, flagged
	TN int `json:"tn"` // normal, not flagged
	FN int `json:"fn"` // anomalous, not flagged
}

// ConfusionAt counts the decisions "anomalous when score > threshold"
// (strictly, as threshold.Threshold.Above) against labels. A NaN score is
// never flagged. It panics if the lengths differ or a label is neither
// [Normal] nor [Anomaly].
func ConfusionAt(labels []int, scores []float64, threshold float64) Confusion {
	if len(labels) != len(scores) {
		panic(fmt.Sprintf("eval: %d labels for %d scores", len(labels), len(scores)))
	}
	var c Confusion
	for i, l := range labels {
		flagged := scores[i] > threshold
		switch {
		case l == Anomaly && flagged:
			c.TP++
		case l == Anomaly:
			c.FN++
		case l == Normal && flagged:
			c.FP++
		case l == Normal:
			c.TN++
		default:
			panic(fmt.Sprintf("eval: label %d is %d", i, l))
		}
	}
	return c
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Precision returns TP/(TP+FP), 0 when nothing was flagged (sklearn's
// zero_division=0).
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall returns TP/(TP+FN) (the true-positive rate), 0 without anomalies.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 returns 2·TP/(2·TP+FP+FN), the harmonic mean of precision and recall;
// 0 when TP = 0.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// FPR returns FP/(FP+TN), 0 without normal samples.
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN) }

// Accuracy returns (TP+TN)/total, 0 for no samples.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.TP+c.TN+c.FP+c.FN) }

// Report gathers the figures `train eval` prints.
type Report struct {
	N         int       `json:"n"`
	Anomalous int       `json:"anomalous"`
	AUC       float64   `json:"auc"`
	PAUC      float64   `json:"pauc"`    // DCASE definition, see PartialAUC
	MaxFPR    float64   `json:"max_fpr"` // p of PAUC
	Threshold float64   `json:"threshold"`
	Confusion Confusion `json:"confusion"`
	Precision float64   `json:"precision"`
	Recall    float64   `json:"recall"`
	F1        float64   `json:"f1"`
}

// Evaluate computes a [Report]: AUC, DCASE partial AUC for FPR ≤ maxFPR
// (0 means [DefaultMaxFPR]) and the confusion counts, precision, recall and
// F1 of "score > threshold". Errors as [PartialAUC].
func Evaluate(labels []int, scores []float64, threshold, maxFPR float64) (Report, error) {
	if maxFPR == 0 {
		maxFPR = DefaultMaxFPR
	}
	auc, err := AUC(labels, scores)
	if err != nil {
		return Report{}, err
	}
	pauc, err := PartialAUC(labels, scores, maxFPR)
	if err != nil {
		return Report{}, err
	}
	c := ConfusionAt(labels, scores, threshold)
	return Report{
		N: len(labels), Anomalous: c.TP + c.FN, AUC: auc, PAUC: pauc, MaxFPR: maxFPR,
		Threshold: threshold, Confusion: c,
		Precision: c.Precision(), Recall: c.Recall(), F1: c.F1(),
	}, nil
}
