package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
	"github.com/mhmstream/mhm/pkg/nn/internal/vec"
)

// Window2D is the kernel size, stride and zero padding of a 2-D
// convolution along height (H) and width (W). A zero stride means 1.
// OutPadH and OutPadW are used by transposed convolutions only (PyTorch's
// output_padding, which must be smaller than the stride) and must be 0 for
// Conv2D.
type Window2D struct {
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	OutPadH, OutPadW int
}

// Square returns the Window2D with a k×k kernel, the same stride and the
// same padding along both axes.
func Square(k, stride, pad int) Window2D {
	return Window2D{KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}
}

func (w Window2D) norm(who string) Window2D {
	if w.StrideH == 0 {
		w.StrideH = 1
	}
	if w.StrideW == 0 {
		w.StrideW = 1
	}
	if w.KH < 1 || w.KW < 1 || w.StrideH < 1 || w.StrideW < 1 || w.PadH < 0 || w.PadW < 0 ||
		w.OutPadH < 0 || w.OutPadW < 0 || w.OutPadH >= w.StrideH || w.OutPadW >= w.StrideW {
		panic(fmt.Sprintf("nn: %s: bad window %+v", who, w))
	}
	return w
}

// direct reports a 1×1, stride-1, unpadded window, whose im2col matrix is
// the image itself.
func (w Window2D) direct() bool {
	return w.KH == 1 && w.KW == 1 && w.StrideH == 1 && w.StrideW == 1 && w.PadH == 0 && w.PadW == 0
}

// geom is the geometry of im2col: an image of c channels of h×w, a
// kh×kw window moved with strides (sh, sw) over it padded by (ph, pw),
// visiting oh×ow positions. The column matrix is stored position-major
// (the transpose of the textbook layout): P = oh·ow rows of K = c·kh·kw
// values,
//
//	colT[(oy·ow+ox)·K + (ci·kh+ki)·kw+kj] = img[ci][oy·sh−ph+ki][ox·sw−pw+kj]
//
// (0 outside the image). Each row is then c·kh runs of kw values that are
// contiguous in the image, whatever the stride, so building it is a series
// of short copies rather than strided gathers; and a batch of examples'
// matrices stacked one under the other is one tall matrix, which is what
// lets the layers multiply a whole chunk of examples in one product.
type geom struct {
	c, h, w, kh, kw, sh, sw, ph, pw, oh, ow int
}

// span returns the positions [lo, hi) of ox whose image column
// ox·s − p + k lies in [0, w), clamped to [0, ow].
func span(k, s, p, w, ow int) (lo, hi int) {
	if p-k > 0 {
		lo = (p - k + s - 1) / s
	}
	if w-1+p-k >= 0 {
		hi = (w-1+p-k)/s + 1
	}
	lo, hi = min(lo, ow), min(hi, ow)
	return lo, max(hi, lo)
}

// inner returns the positions [lo, hi) of ox whose whole window row
// ox·s − p + [0, kw) lies inside [0, w).
func (g *geom) inner() (lo, hi int) {
	lo, _ = span(0, g.sw, g.pw, g.w, g.ow)
	_, hi = span(g.kw-1, g.sw, g.pw, g.w, g.ow)
	return lo, max(lo, hi)
}

// im2col writes the position-major column matrix of img into colT: for
// each output row oy, channel and kernel row, the window rows of the
// interior positions are one vec.CopyRuns (runs of kw values, image stride
// sw, column-matrix stride K); positions whose window leaves the image are
// written one by one.
func (g *geom) im2col(colT, img []float32) {
	K, kw := g.c*g.kh*g.kw, g.kw
	lo, hi := g.inner()
	for oy := 0; oy < g.oh; oy++ {
		rows := colT[oy*g.ow*K : (oy+1)*g.ow*K]
		for ci := 0; ci < g.c; ci++ {
			plane := img[ci*g.h*g.w : (ci+1)*g.h*g.w]
			for ki := 0; ki < g.kh; ki++ {
				o := (ci*g.kh + ki) * kw
				iy := oy*g.sh - g.ph + ki
				if iy < 0 || iy >= g.h {
					for ox := 0; ox < g.ow; ox++ {
						d := rows[ox*K+o : ox*K+o+kw]
						for j := range d {
							d[j] = 0
						}
					}
					continue
				}
				src := plane[iy*g.w : (iy+1)*g.w]
				for ox := 0; ox < lo; ox++ {
					g.edgeRow(rows[ox*K+o:ox*K+o+kw], src, ox)
				}
				if hi > lo {
					vec.CopyRuns(rows[lo*K+o:], K, src[lo*g.sw-g.pw:], g.sw, hi-lo, kw)
				}
				for ox := hi; ox < g.ow; ox++ {
					g.edgeRow(rows[ox*K+o:ox*K+o+kw], src, ox)
				}
			}
		}
	}
}

// edgeRow writes the window row at position ox of the image row src into
// d, with zeros outside the image.
func (g *geom) edgeRow(d, src []float32, ox int) {
	ix := ox*g.sw - g.pw
	for kj := range d {
		if x := ix + kj; x >= 0 && x < g.w {
			d[kj] = src[x]
		} else {
			d[kj] = 0
		}
	}
}

// col2im adds the position-major column matrix colT back into img (the
// adjoint of im2col), the interior positions of each window row with one
// vec.AddRuns.
func (g *geom) col2im(img, colT []float32) {
	K, kw := g.c*g.kh*g.kw, g.kw
	lo, hi := g.inner()
	for oy := 0; oy < g.oh; oy++ {
		rows := colT[oy*g.ow*K : (oy+1)*g.ow*K]
		for ci := 0; ci < g.c; ci++ {
			plane := img[ci*g.h*g.w : (ci+1)*g.h*g.w]
			for ki := 0; ki < g.kh; ki++ {
				iy := oy*g.sh - g.ph + ki
				if iy < 0 || iy >= g.h {
					continue
				}
				o := (ci*g.kh + ki) * kw
				dst := plane[iy*g.w : (iy+1)*g.w]
				for ox := 0; ox < g.ow; ox++ {
					if ox == lo && hi > lo {
						vec.AddRuns(dst[lo*g.sw-g.pw:], g.sw, rows[lo*K+o:], K, hi-lo, kw)
						ox = hi - 1
						continue
					}
					ix := ox*g.sw - g.pw
					for kj, v := range rows[ox*K+o : ox*K+o+kw] {
						if x := ix + kj; x >= 0 && x < g.w {
							dst[x] += v
						}
					}
				}
			}
		}
	}
}

// convBase holds what Conv2D and ConvTranspose2D share.
type convBase struct {
	InC, OutC int
	Win       Window2D
	W, B      []float32
	GW, GB    []float32

	params      []Param
	x           Tensor
	g           geom
	col, y, dx  []float32 // column matrices of a chunk; output; input gradient
	t           []float32 // a chunk of activations transposed to position-major
	ones        []float32
	outShape    Shape
	inPerEx, oP int // values per input example, output positions
}

// Params returns weight and bias.
func (c *convBase) Params() []Param { return c.params }

func (c *convBase) init(inC, outC int, win Window2D, wlen int) {
	c.InC, c.OutC, c.Win = inC, outC, win
	c.W, c.GW = make([]float32, wlen), make([]float32, wlen)
	c.B, c.GB = make([]float32, outC), make([]float32, outC)
	c.params = []Param{{Name: "weight", Data: c.W, Grad: c.GW}, {Name: "bias", Data: c.B, Grad: c.GB}}
}

// convChunkValues bounds the values of a chunk's column matrix (1 MiB):
// the examples of a batch are multiplied in chunks of
// max(1, convChunkValues/(P·K)) so that a product has many rows without
// the workspace growing with the batch.
const convChunkValues = 1 << 18

// chunk returns the number of examples multiplied at a time for column
// matrices of P×K.
func chunk(n, P, K int) int { return max(1, min(n, convChunkValues/max(1, P*K))) }

func fillBias(y []float32, b []float32, P int) {
	for o, v := range b {
		row := y[o*P : (o+1)*P]
		for i := range row {
			row[i] = v
		}
	}
}

// toRows writes the ne examples of src (each c×P, channel-major) into dst as
// one (ne·P)×c matrix, position-major.
func toRows(dst, src []float32, ne, c, P int) {
	for e := 0; e < ne; e++ {
		transpose(dst[e*P*c:(e+1)*P*c], src[e*c*P:(e+1)*c*P], c, P)
	}
}

// fromRows is the inverse of toRows: the (ne·P)×c matrix src back to ne
// channel-major examples of c×P.
func fromRows(dst, src []float32, ne, c, P int) {
	for e := 0; e < ne; e++ {
		transpose(dst[e*c*P:(e+1)*c*P], src[e*P*c:(e+1)*P*c], P, c)
	}
}

// transpose writes dst (cols×rows) = src (rows×cols)ᵀ.
func transpose(dst, src []float32, rows, cols int) { vec.Transpose(dst, src, rows, cols) }

// Conv2D is a 2-D convolution (cross-correlation, as PyTorch's nn.Conv2d)
// over N×InC×H×W input with an OutC×InC×KH×KW weight and OutC biases:
//
//	y[n,o,i,j] = b[o] + Σ_{c,ki,kj} W[o,c,ki,kj]·x[n,c,i·sh−ph+ki, j·sw−pw+kj]
//
// (zero outside the input), giving N×OutC×OH×OW with
// OH = ⌊(H+2·PadH−KH)/StrideH⌋+1 and OW likewise. It is computed in
// chunks of examples (up to 2^18 column-matrix values, see
// convChunkValues): their position-major im2col matrices stacked into one
// (chunk·OH·OW)×(InC·KH·KW) matrix, one gemm.SgemmBias call with the bias
// in the store, and a transpose back to channel-major (a 1×1 stride-1
// unpadded convolution's column matrix is the transposed input). Backward
// recomputes the column matrices rather than storing them all, then two
// products per chunk (dW, dcol), a one-row product for db and col2im.
type Conv2D struct{ convBase }

var (
	_ Layer           = (*Conv2D)(nil)
	_ ParamBackwarder = (*Conv2D)(nil)
	_ Initializer     = (*Conv2D)(nil)
)

// NewConv2D returns a Conv2D from inC to outC channels with window win,
// initialised with HeUniform from rng (fanIn = inC·KH·KW, fanOut =
// outC·KH·KW). It panics on a bad window or channel count.
func NewConv2D(inC, outC int, win Window2D, rng *rand.Rand) *Conv2D {
	win = win.norm("NewConv2D")
	if inC < 1 || outC < 1 || win.OutPadH != 0 || win.OutPadW != 0 {
		panic(fmt.Sprintf("nn: NewConv2D(%d, %d, %+v)", inC, outC, win))
	}
	c := &Conv2D{}
	c.init(inC, outC, win, outC*inC*win.KH*win.KW)
	c.Initialize(HeUniform, rng)
	return c
}

// Initialize redraws the weights (fanIn = InC·KH·KW, fanOut = OutC·KH·KW)
// and zeroes the gradients.
func (c *Conv2D) Initialize(init Init, rng *rand.Rand) {
	k := c.Win.KH * c.Win.KW
	initWeights(c.W, c.B, init, c.InC*k, c.OutC*k, rng)
	clear(c.GW)
	clear(c.GB)
}

// OutShape returns {OutC, OH, OW}; it panics unless in is {InC, H, W} with
// H, W large enough for the window.
func (c *Conv2D) OutShape(in Shape) Shape {
	w := c.Win
	if in.Rank() != 3 || in[0] != c.InC {
		panic(fmt.Sprintf("nn: Conv2D(%d→%d) cannot take input shape %v", c.InC, c.OutC, in))
	}
	oh := (in[1]+2*w.PadH-w.KH)/w.StrideH + 1
	ow := (in[2]+2*w.PadW-w.KW)/w.StrideW + 1
	if in[1]+2*w.PadH < w.KH || in[2]+2*w.PadW < w.KW {
		panic(fmt.Sprintf("nn: Conv2D: input %v smaller than the %dx%d kernel", in, w.KH, w.KW))
	}
	return Shape{c.OutC, oh, ow}
}

func (c *Conv2D) setup(x Tensor) {
	if x.Shape != c.x.Shape || c.outShape.Rank() == 0 {
		c.outShape = c.OutShape(x.Shape)
		w := c.Win
		c.g = geom{c: c.InC, h: x.Shape[1], w: x.Shape[2], kh: w.KH, kw: w.KW, sh: w.StrideH, sw: w.StrideW,
			ph: w.PadH, pw: w.PadW, oh: c.outShape[1], ow: c.outShape[2]}
		c.inPerEx = x.Shape.Size()
		c.oP = c.outShape[1] * c.outShape[2]
	}
	x.check("Conv2D", c.inPerEx)
	c.x = x
}

// Forward computes the convolution.
func (c *Conv2D) Forward(x Tensor, training bool) Tensor { return c.forward(x, gemm.Identity) }

// forward computes act(convolution + b): for each chunk of examples, their
// column matrices stacked into one (chunk·P)×K matrix, one product with the
// bias (and act) in its store, and the result transposed back to
// channel-major.
func (c *Conv2D) forward(x Tensor, act gemm.Activation) Tensor {
	c.setup(x)
	K, P := c.InC*c.Win.KH*c.Win.KW, c.oP
	direct := c.Win.direct()
	ce := chunk(x.N, P, K)
	c.col = grow(c.col, ce*P*K)
	c.t = grow(c.t, ce*P*c.OutC)
	c.y = grow(c.y, x.N*c.OutC*P)
	for n0 := 0; n0 < x.N; n0 += ce {
		ne := min(ce, x.N-n0)
		xs := x.Data[n0*c.inPerEx : (n0+ne)*c.inPerEx]
		if direct {
			toRows(c.col, xs, ne, c.InC, P)
		} else {
			for e := 0; e < ne; e++ {
				c.g.im2col(c.col[e*P*K:(e+1)*P*K], xs[e*c.inPerEx:(e+1)*c.inPerEx])
			}
		}
		gemm.SgemmBias(false, true, ne*P, c.OutC, K, 1, c.col, K, c.W, K, 0, c.t, c.OutC, c.B, act)
		fromRows(c.y[n0*c.OutC*P:], c.t, ne, c.OutC, P)
	}
	return Tensor{Data: c.y, N: x.N, Shape: c.outShape}
}

// Backward accumulates dW and db and returns dx.
func (c *Conv2D) Backward(dy Tensor) Tensor { return c.backward(dy, true) }

// BackwardParams accumulates dW and db only.
func (c *Conv2D) BackwardParams(dy Tensor) { c.backward(dy, false) }

// backward works chunk by chunk as forward: dy transposed to position-major,
// the column matrices recomputed, dW += dyᵀ·col and db += 1ᵀ·dy in one
// product each, and dcol = dy·W (overwriting col) added back into dx by
// col2im.
func (c *Conv2D) backward(dy Tensor, needDx bool) Tensor {
	x := c.x
	K, P := c.InC*c.Win.KH*c.Win.KW, c.oP
	if dy.N != x.N || dy.Shape.Size() != c.OutC*P || len(dy.Data) < x.N*c.OutC*P {
		panic("nn: Conv2D.Backward: shape differs from the last Forward")
	}
	direct := c.Win.direct()
	ce := chunk(x.N, P, K)
	c.col = grow(c.col, ce*P*K)
	c.t = grow(c.t, ce*P*c.OutC)
	c.ones = onesRow(c.ones, ce*P)
	if needDx {
		c.dx = grow(c.dx, x.N*c.inPerEx)
	}
	for n0 := 0; n0 < x.N; n0 += ce {
		ne := min(ce, x.N-n0)
		m := ne * P
		xs := x.Data[n0*c.inPerEx : (n0+ne)*c.inPerEx]
		toRows(c.t, dy.Data[n0*c.OutC*P:], ne, c.OutC, P)
		if direct {
			toRows(c.col, xs, ne, c.InC, P)
		} else {
			for e := 0; e < ne; e++ {
				c.g.im2col(c.col[e*P*K:(e+1)*P*K], xs[e*c.inPerEx:(e+1)*c.inPerEx])
			}
		}
		gemm.Sgemm(true, false, c.OutC, K, m, 1, c.t, c.OutC, c.col, K, 1, c.GW, K)
		gemm.Sgemm(false, false, 1, c.OutC, m, 1, c.ones, m, c.t, c.OutC, 1, c.GB, c.OutC)
		if !needDx {
			continue
		}
		gemm.Sgemm(false, false, m, K, c.OutC, 1, c.t, c.OutC, c.W, K, 0, c.col, K)
		dxs := c.dx[n0*c.inPerEx : (n0+ne)*c.inPerEx]
		if direct {
			fromRows(dxs, c.col, ne, c.InC, P)
			continue
		}
		clear(dxs)
		for e := 0; e < ne; e++ {
			c.g.col2im(dxs[e*c.inPerEx:(e+1)*c.inPerEx], c.col[e*P*K:(e+1)*P*K])
		}
	}
	if !needDx {
		return Tensor{}
	}
	return Tensor{Data: c.dx, N: x.N, Shape: x.Shape}
}

// ConvTranspose2D is the transposed 2-D convolution (PyTorch's
// nn.ConvTranspose2d, the adjoint of Conv2D with respect to its input) over
// N×InC×H×W input with an InC×OutC×KH×KW weight and OutC biases, giving
// N×OutC×OH×OW with OH = (H−1)·StrideH − 2·PadH + KH + OutPadH (OW
// likewise). Per chunk of examples (as Conv2D) it is one gemm.Sgemm, the
// inputs transposed to position-major times W, then col2im of each
// example's rows; Backward is im2col of dy and two products per chunk. It
// is the learned upsampling of the
// convolutional decoders (chosen over Upsample+Conv2D: one layer, no
// fixed interpolation, and the exact mirror of an encoder's Conv2D).
type ConvTranspose2D struct{ convBase }

var (
	_ Layer           = (*ConvTranspose2D)(nil)
	_ ParamBackwarder = (*ConvTranspose2D)(nil)
	_ Initializer     = (*ConvTranspose2D)(nil)
)

// NewConvTranspose2D returns a ConvTranspose2D from inC to outC channels
// with window win, initialised with HeUniform from rng (fanIn =
// inC·KH·KW/(StrideH·StrideW), the mean number of terms summed into one
// output; fanOut = outC·KH·KW). It panics on a bad window or channel count.
func NewConvTranspose2D(inC, outC int, win Window2D, rng *rand.Rand) *ConvTranspose2D {
	win = win.norm("NewConvTranspose2D")
	if inC < 1 || outC < 1 {
		panic(fmt.Sprintf("nn: NewConvTranspose2D(%d, %d, %+v)", inC, outC, win))
	}
	c := &ConvTranspose2D{}
	c.init(inC, outC, win, inC*outC*win.KH*win.KW)
	c.Initialize(HeUniform, rng)
	return c
}

// Initialize redraws the weights and zeroes the gradients. TorchDefault
// uses PyTorch's fan-in for this layer, OutC·KH·KW.
func (c *ConvTranspose2D) Initialize(init Init, rng *rand.Rand) {
	k := c.Win.KH * c.Win.KW
	fanIn := max(1, c.InC*k/(c.Win.StrideH*c.Win.StrideW))
	if init == TorchDefault {
		fanIn = c.OutC * k
	}
	initWeights(c.W, c.B, init, fanIn, c.OutC*k, rng)
	clear(c.GW)
	clear(c.GB)
}

// OutShape returns {OutC, OH, OW}; it panics unless in is {InC, H, W}.
func (c *ConvTranspose2D) OutShape(in Shape) Shape {
	w := c.Win
	if in.Rank() != 3 || in[0] != c.InC {
		panic(fmt.Sprintf("nn: ConvTranspose2D(%d→%d) cannot take input shape %v", c.InC, c.OutC, in))
	}
	oh := (in[1]-1)*w.StrideH - 2*w.PadH + w.KH + w.OutPadH
	ow := (in[2]-1)*w.StrideW - 2*w.PadW + w.KW + w.OutPadW
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("nn: ConvTranspose2D: input %v gives an empty output", in))
	}
	return Shape{c.OutC, oh, ow}
}

func (c *ConvTranspose2D) setup(x Tensor) {
	if x.Shape != c.x.Shape || c.outShape.Rank() == 0 {
		c.outShape = c.OutShape(x.Shape)
		w := c.Win
		c.g = geom{c: c.OutC, h: c.outShape[1], w: c.outShape[2], kh: w.KH, kw: w.KW, sh: w.StrideH, sw: w.StrideW,
			ph: w.PadH, pw: w.PadW, oh: x.Shape[1], ow: x.Shape[2]}
		c.inPerEx = x.Shape.Size()
		c.oP = c.outShape[1] * c.outShape[2]
	}
	x.check("ConvTranspose2D", c.inPerEx)
	c.x = x
}

// Forward computes the transposed convolution: per chunk of examples, the
// inputs transposed to position-major, one product col = x·W giving every
// example's position-major column matrix, and col2im of each onto the
// bias.
func (c *ConvTranspose2D) Forward(x Tensor, training bool) Tensor {
	c.setup(x)
	K := c.OutC * c.Win.KH * c.Win.KW
	P := c.g.oh * c.g.ow // input positions
	OP := c.oP           // output positions
	direct := c.Win.direct()
	ce := chunk(x.N, P, K)
	c.col = grow(c.col, ce*P*K)
	c.t = grow(c.t, ce*P*c.InC)
	c.y = grow(c.y, x.N*c.OutC*OP)
	for n0 := 0; n0 < x.N; n0 += ce {
		ne := min(ce, x.N-n0)
		toRows(c.t, x.Data[n0*c.inPerEx:], ne, c.InC, P)
		ys := c.y[n0*c.OutC*OP : (n0+ne)*c.OutC*OP]
		if direct {
			// col2im of a 1×1 window is the transpose: the bias goes into
			// the product's store.
			gemm.SgemmBias(false, false, ne*P, K, c.InC, 1, c.t, c.InC, c.W, K, 0, c.col, K, c.B, gemm.Identity)
			fromRows(ys, c.col, ne, c.OutC, OP)
			continue
		}
		gemm.Sgemm(false, false, ne*P, K, c.InC, 1, c.t, c.InC, c.W, K, 0, c.col, K)
		for e := 0; e < ne; e++ {
			yn := ys[e*c.OutC*OP : (e+1)*c.OutC*OP]
			fillBias(yn, c.B, OP)
			c.g.col2im(yn, c.col[e*P*K:(e+1)*P*K])
		}
	}
	return Tensor{Data: c.y, N: x.N, Shape: c.outShape}
}

// Backward accumulates dW and db and returns dx.
func (c *ConvTranspose2D) Backward(dy Tensor) Tensor { return c.backward(dy, true) }

// BackwardParams accumulates dW and db only.
func (c *ConvTranspose2D) BackwardParams(dy Tensor) { c.backward(dy, false) }

// backward, per chunk: dcol = im2col(dy) stacked, dW += xᵀ·dcol, and
// dx = dcol·Wᵀ transposed back to channel-major; db += Σ dy per channel.
func (c *ConvTranspose2D) backward(dy Tensor, needDx bool) Tensor {
	x := c.x
	K := c.OutC * c.Win.KH * c.Win.KW
	P := c.g.oh * c.g.ow
	OP := c.oP
	if dy.N != x.N || dy.Shape.Size() != c.OutC*OP || len(dy.Data) < x.N*c.OutC*OP {
		panic("nn: ConvTranspose2D.Backward: shape differs from the last Forward")
	}
	direct := c.Win.direct()
	ce := chunk(x.N, P, K)
	c.col = grow(c.col, ce*P*K)
	c.t = grow(c.t, ce*P*c.InC)
	c.ones = onesRow(c.ones, OP)
	if needDx {
		c.dx = grow(c.dx, x.N*c.inPerEx)
	}
	// db: one row of ones against each example's OutC×OP gradient.
	for n := 0; n < x.N; n++ {
		gemm.Sgemm(false, true, 1, c.OutC, OP, 1, c.ones, OP, dy.Data[n*c.OutC*OP:], OP, 1, c.GB, c.OutC)
	}
	for n0 := 0; n0 < x.N; n0 += ce {
		ne := min(ce, x.N-n0)
		m := ne * P
		dys := dy.Data[n0*c.OutC*OP : (n0+ne)*c.OutC*OP]
		if direct {
			toRows(c.col, dys, ne, c.OutC, OP)
		} else {
			for e := 0; e < ne; e++ {
				c.g.im2col(c.col[e*P*K:(e+1)*P*K], dys[e*c.OutC*OP:(e+1)*c.OutC*OP])
			}
		}
		toRows(c.t, x.Data[n0*c.inPerEx:], ne, c.InC, P)
		gemm.Sgemm(true, false, c.InC, K, m, 1, c.t, c.InC, c.col, K, 1, c.GW, K)
		if needDx {
			gemm.Sgemm(false, true, m, c.InC, K, 1, c.col, K, c.W, K, 0, c.t, c.InC)
			fromRows(c.dx[n0*c.inPerEx:], c.t, ne, c.InC, P)
		}
	}
	if !needDx {
		return Tensor{}
	}
	return Tensor{Data: c.dx, N: x.N, Shape: x.Shape}
}

// as2D views a {C, L} batch as {C, 1, L}.
func as2D(t Tensor, who string) Tensor {
	if t.Shape.Rank() != 2 {
		panic(fmt.Sprintf("nn: %s: input shape %v is not {C, L}", who, t.Shape))
	}
	t.Shape = Shape{t.Shape[0], 1, t.Shape[1]}
	return t
}

// as1D views a {C, 1, L} batch as {C, L}.
func as1D(t Tensor) Tensor {
	t.Shape = Shape{t.Shape[0], t.Shape[2]}
	return t
}

func window1D(k, stride, pad, outPad int) Window2D {
	return Window2D{KH: 1, KW: k, StrideH: 1, StrideW: stride, PadW: pad, OutPadW: outPad}
}

// Conv1D is a 1-D convolution (PyTorch's nn.Conv1d) over N×InC×L input with
// an OutC×InC×K weight: a Conv2D with a 1×K window on a height-1 image,
// giving N×OutC×OL, OL = ⌊(L+2·pad−K)/stride⌋+1.
type Conv1D struct{ Conv2D }

var (
	_ Layer           = (*Conv1D)(nil)
	_ ParamBackwarder = (*Conv1D)(nil)
)

// NewConv1D returns a Conv1D from inC to outC channels with kernel k,
// stride and padding, initialised with HeUniform from rng (fanIn = inC·k).
// It panics on bad sizes.
func NewConv1D(inC, outC, k, stride, pad int, rng *rand.Rand) *Conv1D {
	return &Conv1D{*NewConv2D(inC, outC, window1D(k, stride, pad, 0), rng)}
}

// OutShape returns {OutC, OL}; it panics unless in is {InC, L}.
func (c *Conv1D) OutShape(in Shape) Shape {
	if in.Rank() != 2 {
		panic(fmt.Sprintf("nn: Conv1D cannot take input shape %v", in))
	}
	o := c.Conv2D.OutShape(Shape{in[0], 1, in[1]})
	return Shape{o[0], o[2]}
}

// Forward computes the convolution.
func (c *Conv1D) Forward(x Tensor, training bool) Tensor {
	return as1D(c.Conv2D.Forward(as2D(x, "Conv1D"), training))
}

// Backward accumulates dW and db and returns dx.
func (c *Conv1D) Backward(dy Tensor) Tensor {
	return as1D(c.Conv2D.Backward(as2D(dy, "Conv1D.Backward")))
}

// BackwardParams accumulates dW and db only.
func (c *Conv1D) BackwardParams(dy Tensor) { c.Conv2D.BackwardParams(as2D(dy, "Conv1D.Backward")) }

// ConvTranspose1D is the transposed 1-D convolution (PyTorch's
// nn.ConvTranspose1d) over N×InC×L input with an InC×OutC×K weight, giving
// N×OutC×OL, OL = (L−1)·stride − 2·pad + K + outPad.
type ConvTranspose1D struct{ ConvTranspose2D }

var (
	_ Layer           = (*ConvTranspose1D)(nil)
	_ ParamBackwarder = (*ConvTranspose1D)(nil)
)

// NewConvTranspose1D returns a ConvTranspose1D from inC to outC channels
// with kernel k, stride, padding and output padding (< stride),
// initialised with HeUniform from rng. It panics on bad sizes.
func NewConvTranspose1D(inC, outC, k, stride, pad, outPad int, rng *rand.Rand) *ConvTranspose1D {
	return &ConvTranspose1D{*NewConvTranspose2D(inC, outC, window1D(k, stride, pad, outPad), rng)}
}

// OutShape returns {OutC, OL}; it panics unless in is {InC, L}.
func (c *ConvTranspose1D) OutShape(in Shape) Shape {
	if in.Rank() != 2 {
		panic(fmt.Sprintf("nn: ConvTranspose1D cannot take input shape %v", in))
	}
	o := c.ConvTranspose2D.OutShape(Shape{in[0], 1, in[1]})
	return Shape{o[0], o[2]}
}

// Forward computes the transposed convolution.
func (c *ConvTranspose1D) Forward(x Tensor, training bool) Tensor {
	return as1D(c.ConvTranspose2D.Forward(as2D(x, "ConvTranspose1D"), training))
}

// Backward accumulates dW and db and returns dx.
func (c *ConvTranspose1D) Backward(dy Tensor) Tensor {
	return as1D(c.ConvTranspose2D.Backward(as2D(dy, "ConvTranspose1D.Backward")))
}

// BackwardParams accumulates dW and db only.
func (c *ConvTranspose1D) BackwardParams(dy Tensor) {
	c.ConvTranspose2D.BackwardParams(as2D(dy, "ConvTranspose1D.Backward"))
}
