// Package norm standardises feature vectors: each feature is shifted by the
// mean and divided by the standard deviation fitted on training data, so
// networks see inputs of unit scale whatever the units of the spectrogram.
//
// A Standardizer is fitted once (float64 accumulation), saved with a model
// and applied to every batch without allocating.
package norm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrFormat is returned by UnmarshalBinary for bytes that are not a
// Standardizer.
var ErrFormat = errors.New("norm: malformed standardizer")

// DefaultMinStd is the smallest deviation Fit keeps: a feature that is
// constant in the training data is divided by this instead of zero.
const DefaultMinStd = 1e-6

// Standardizer maps a feature vector x to z with
//
//	z[j] = (x[j] - Mean[j]) / Std[j]
//
// Mean and Std have one entry per feature.
type Standardizer struct {
	Mean []float32
	Std  []float32
}

// Fit returns the per-feature mean and population standard deviation of n
// row-major vectors of dim features in x, computed in float64 (two passes).
// Deviations below minStd are raised to minStd (minStd <= 0 means
// DefaultMinStd). It panics if len(x) < n*dim or n < 1.
func Fit(x []float32, n, dim int, minStd float64) *Standardizer {
	if n < 1 || dim < 1 || len(x) < n*dim {
		panic(fmt.Sprintf("norm: Fit of %d×%d vectors from %d values", n, dim, len(x)))
	}
	if minStd <= 0 {
		minStd = DefaultMinStd
	}
	mean := make([]float64, dim)
	for i := 0; i < n; i++ {
		row := x[i*dim : i*dim+dim]
		for j, v := range row {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	vars := make([]float64, dim)
	for i := 0; i < n; i++ {
		row := x[i*dim : i*dim+dim]
		for j, v := range row {
			d := float64(v) - mean[j]
			vars[j] += d * d
		}
	}
	s := &Standardizer{Mean: make([]float32, dim), Std: make([]float32, dim)}
	for j := range mean {
		s.Mean[j] = float32(mean[j])
		s.Std[j] = float32(math.Max(math.Sqrt(vars[j]/float64(n)), minStd))
	}
	return s
}

// Identity returns a Standardizer of dim features that changes nothing.
func Identity(dim int) *Standardizer {
	s := &Standardizer{Mean: make([]float32, dim), Std: make([]float32, dim)}
	for j := range s.Std {
		s.Std[j] = 1
	}
	return s
}

// Dim is the number of features.
func (s *Standardizer) Dim() int { return len(s.Mean) }

// Apply writes the standardised form of n row-major vectors of x into dst.
// dst may be x itself. It does not allocate and panics if a slice is
// shorter than n*Dim().
func (s *Standardizer) Apply(dst, x []float32, n int) {
	dim := s.Dim()
	s.check(len(dst), len(x), n)
	for i := 0; i < n; i++ {
		xr := x[i*dim : i*dim+dim]
		dr := dst[i*dim : i*dim+dim]
		for j := range dr {
			dr[j] = (xr[j] - s.Mean[j]) / s.Std[j]
		}
	}
}

// Invert maps standardised vectors z back to feature units:
// dst[j] = z[j]*Std[j] + Mean[j]. dst may be z itself.
func (s *Standardizer) Invert(dst, z []float32, n int) {
	dim := s.Dim()
	s.check(len(dst), len(z), n)
	for i := 0; i < n; i++ {
		zr := z[i*dim : i*dim+dim]
		dr := dst[i*dim : i*dim+dim]
		for j := range dr {
			dr[j] = zr[j]*s.Std[j] + s.Mean[j]
		}
	}
}

func (s *Standardizer) check(ld, lx, n int) {
	if need := n * s.Dim(); ld < need || lx < need {
		panic(fmt.Sprintf("norm: %d vectors of %d features need %d values, have dst %d, src %d", n, s.Dim(), need, ld, lx))
	}
}

// MarshalBinary encodes the Standardizer as a little-endian uint32 feature
// count followed by the means and the deviations as float32.
func (s *Standardizer) MarshalBinary() ([]byte, error) {
	dim := s.Dim()
	if len(s.Std) != dim {
		return nil, fmt.Errorf("norm: %d means but %d deviations", dim, len(s.Std))
	}
	b := make([]byte, 4, 4+8*dim)
	binary.LittleEndian.PutUint32(b, uint32(dim))
	for _, v := range s.Mean {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range s.Std {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. Deviations must be
// positive and finite.
func (s *Standardizer) UnmarshalBinary(b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("%w: %d bytes, need at least 4", ErrFormat, len(b))
	}
	dim := int(binary.LittleEndian.Uint32(b))
	if len(b)-4 != 8*dim {
		return fmt.Errorf("%w: %d features need %d bytes, have %d", ErrFormat, dim, 4+8*dim, len(b))
	}
	mean := make([]float32, dim)
	std := make([]float32, dim)
	for j := range mean {
		mean[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4+4*j:]))
		std[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4+4*dim+4*j:]))
		if !(std[j] > 0) || math.IsInf(float64(std[j]), 0) || math.IsNaN(float64(mean[j])) || math.IsInf(float64(mean[j]), 0) {
			return fmt.Errorf("%w: feature %d has mean %v and deviation %v", ErrFormat, j, mean[j], std[j])
		}
	}
	s.Mean, s.Std = mean, std
	return nil
}
