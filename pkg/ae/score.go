package ae

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

// scoreChunk is the most patches a Scorer runs through the network at
// once; larger calls are processed in chunks, which bounds the workspaces
// (about 4096×(sum of layer widths) float32 values) whatever n is.
const scoreChunk = 4096

// Scorer scores patches with a copy of a Model's networks prepared for
// inference: BatchNorm uses its running statistics and is folded into the
// preceding Dense or convolution (nn.Fold: W' = s·W, b' = s·(b−μ)+β,
// s = γ/√(σ²+ε)), ReLU is fused into the same pass.
//
// The anomaly score of a patch x of D = Frames·Bins values is its
// reconstruction error in the units the model was trained in,
//
//	score = (1/D)·Σ_j (x̂_j − z_j)²,   z = standardise(x) (or x itself with NoStandardize),
//	                                   x̂ = decoder(encoder(z))
//
// so it is in standardised units² (each feature's error relative to its
// spread on normal data) for a standardised model and in the input's units²
// (dB² for log-mel) for the DCASE2020 preset, where the clip mean of the
// patch scores is the baseline's clip score. Higher is more anomalous. The
// per-feature contribution is e_j = (x̂_j − z_j)², so score = mean_j e_j;
// summing e over a patch's frames localises the anomalous frequency bins.
//
// A Scorer is not safe for concurrent use; give each goroutine its own
// (Model.NewScorer). It allocates its workspaces on the first call with a
// batch larger than any before (at most 4096 patches are run at once) and
// nothing afterwards.
type Scorer struct {
	dim      int
	in, code nn.Shape
	std      *norm.Standardizer
	enc, dec *nn.Sequential
	z        []float32 // standardised chunk
}

// NewScorer returns an independent Scorer of m's current weights (it copies
// them, folding BatchNorm; call it again after further training). It
// allocates the copy.
func (m *Model) NewScorer() *Scorer { return m.newScorer(true) }

func (m *Model) newScorer(fold bool) *Scorer {
	s := &Scorer{dim: m.InputDim(), in: m.arch.in, code: m.arch.code, std: m.std}
	if fold {
		s.enc, s.dec = nn.Fold(m.enc), nn.Fold(m.dec)
	} else {
		// Tests and benchmarks only: the model's own networks, run in
		// inference mode without folding (not independent of m).
		s.enc, s.dec = m.enc, m.dec
	}
	return s
}

// InputDim returns the values per patch, Frames·Bins.
func (s *Scorer) InputDim() int { return s.dim }

// CodeDim returns the number of code values per patch.
func (s *Scorer) CodeDim() int { return s.code.Size() }

// Score writes the anomaly score of each of the n patches stored row-major
// in x (n×InputDim) into scores[:n] (the mean squared reconstruction error,
// see Scorer); when perFeature is non-nil it also writes each value's
// squared error e_j into perFeature[:n×InputDim], row-major like x. The sum
// is accumulated in float64. It does not allocate after the first call with
// a batch this large; it panics if a slice is too short for n.
func (s *Scorer) Score(scores []float64, perFeature []float32, x []float32, n int) {
	d := s.dim
	if len(scores) < n || len(x) < n*d || (perFeature != nil && len(perFeature) < n*d) {
		panic(fmt.Sprintf("ae: Score of %d patches of %d values: scores %d, x %d, perFeature %d",
			n, d, len(scores), len(x), len(perFeature)))
	}
	for lo := 0; lo < n; lo += scoreChunk {
		hi := min(lo+scoreChunk, n)
		z, y := s.run(x[lo*d:hi*d], hi-lo)
		for r := 0; r < hi-lo; r++ {
			zr, yr := z[r*d:(r+1)*d], y[r*d:(r+1)*d]
			var sum float64
			if perFeature != nil {
				pf := perFeature[(lo+r)*d : (lo+r+1)*d]
				for j, v := range yr {
					e := v - zr[j]
					e *= e
					pf[j] = e
					sum += float64(e)
				}
			} else {
				for j, v := range yr {
					e := float64(v - zr[j])
					sum += e * e
				}
			}
			scores[lo+r] = sum / float64(d)
		}
	}
}

// Reconstruct writes the reconstruction of the n patches of x into dst
// (n×InputDim), in the input's units (the standardisation inverted). It
// does not allocate after the first call with a batch this large; it panics
// if a slice is too short.
func (s *Scorer) Reconstruct(dst, x []float32, n int) {
	d := s.dim
	if len(dst) < n*d || len(x) < n*d {
		panic(fmt.Sprintf("ae: Reconstruct of %d patches of %d values: dst %d, x %d", n, d, len(dst), len(x)))
	}
	for lo := 0; lo < n; lo += scoreChunk {
		hi := min(lo+scoreChunk, n)
		_, y := s.run(x[lo*d:hi*d], hi-lo)
		out := dst[lo*d : hi*d]
		if s.std != nil {
			s.std.Invert(out, y, hi-lo)
		} else {
			copy(out, y)
		}
	}
}

// Encode writes the code of the n patches of x into dst (n×CodeDim). It
// does not allocate after the first call with a batch this large; it panics
// if a slice is too short.
func (s *Scorer) Encode(dst, x []float32, n int) {
	d, k := s.dim, s.code.Size()
	if len(dst) < n*k || len(x) < n*d {
		panic(fmt.Sprintf("ae: Encode of %d patches of %d values: dst %d (need %d), x %d", n, d, len(dst), n*k, len(x)))
	}
	for lo := 0; lo < n; lo += scoreChunk {
		hi := min(lo+scoreChunk, n)
		z := s.enc.Forward(s.input(x[lo*d:hi*d], hi-lo), false)
		copy(dst[lo*k:hi*k], z.Data[:(hi-lo)*k])
	}
}

// input returns the network input for n ≤ scoreChunk patches: x itself, or
// its standardised copy.
func (s *Scorer) input(x []float32, n int) nn.Tensor {
	d := s.dim
	if s.std != nil {
		s.z = grow(s.z, n*d)
		s.std.Apply(s.z, x, n)
		x = s.z
	}
	return nn.Tensor{Data: x[:n*d], N: n, Shape: s.in}
}

// run returns the network input and output (n×dim each) of n patches.
func (s *Scorer) run(x []float32, n int) (z, y []float32) {
	in := s.input(x, n)
	out := s.dec.Forward(s.enc.Forward(in, false), false)
	return in.Data, out.Data[:n*s.dim]
}
