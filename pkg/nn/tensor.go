package nn

import (
	"fmt"
	"strings"
)

// MaxRank is the largest number of per-example dimensions a Shape holds.
const MaxRank = 4

// Shape is the shape of one example, without the batch dimension: {F} for a
// dense layer's features, {C, L} for Conv1D, {C, H, W} for Conv2D. Unused
// trailing dimensions are 0, so Shape{640} and Shape{16, 32, 32} are written
// as literals and compare with ==. A Shape is a value: it never allocates.
type Shape [MaxRank]int

// Rank returns the number of leading non-zero dimensions.
func (s Shape) Rank() int {
	r := 0
	for r < MaxRank && s[r] != 0 {
		r++
	}
	return r
}

// Size returns the number of values in one example, the product of the
// dimensions (0 for the empty Shape).
func (s Shape) Size() int {
	r := s.Rank()
	if r == 0 {
		return 0
	}
	n := 1
	for _, d := range s[:r] {
		n *= d
	}
	return n
}

// String formats the shape as "[16 32 32]".
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s[:s.Rank()] {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}

// Tensor is a minibatch: N examples of shape Shape stored row-major in Data,
// example i at Data[i*Shape.Size() : (i+1)*Shape.Size()]. Within an example
// the layout is row-major over Shape (channel-major for convolutions:
// value (c, h, w) of example i is at i*C*H*W + (c*H+h)*W + w).
//
// A Tensor is a view: copying it copies no values. Tensors returned by a
// layer's Forward or Backward point into buffers the layer owns; they stay
// valid until that layer's next Forward (or Backward) call.
type Tensor struct {
	Data  []float32
	N     int   // number of examples (rows)
	Shape Shape // shape of one example
}

// View wraps data as a batch of examples of shape s: N = len(data)/s.Size().
// It does not copy or allocate. It panics if len(data) is not a multiple of
// s.Size() or s is empty.
func View(data []float32, s Shape) Tensor {
	sz := s.Size()
	if sz == 0 {
		panic("nn: View with empty shape")
	}
	if len(data)%sz != 0 {
		panic(fmt.Sprintf("nn: View: %d values is not a whole number of examples of shape %v", len(data), s))
	}
	return Tensor{Data: data, N: len(data) / sz, Shape: s}
}

// NewTensor allocates a zeroed batch of n examples of shape s.
func NewTensor(n int, s Shape) Tensor {
	return Tensor{Data: make([]float32, n*s.Size()), N: n, Shape: s}
}

// Size returns the number of values of one example, Shape.Size().
func (t Tensor) Size() int { return t.Shape.Size() }

// Row returns example i's values (a subslice of Data, no copy).
func (t Tensor) Row(i int) []float32 {
	sz := t.Shape.Size()
	return t.Data[i*sz : (i+1)*sz : (i+1)*sz]
}

// Slice returns the examples [i, j) as a Tensor sharing Data (no copy).
func (t Tensor) Slice(i, j int) Tensor {
	sz := t.Shape.Size()
	return Tensor{Data: t.Data[i*sz : j*sz : j*sz], N: j - i, Shape: t.Shape}
}

// check panics unless t holds N examples of the given per-example size.
func (t Tensor) check(who string, size int) {
	if t.Shape.Size() != size {
		panic(fmt.Sprintf("nn: %s: input shape %v has %d values per example, want %d", who, t.Shape, t.Shape.Size(), size))
	}
	if len(t.Data) < t.N*size {
		panic(fmt.Sprintf("nn: %s: %d values for %d examples of size %d", who, len(t.Data), t.N, size))
	}
}

// grow returns buf resliced to n values, reallocating only when its
// capacity is too small. Layers keep their workspaces this way, so a
// buffer grows to the largest batch seen and is never reallocated after.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

func grow64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
