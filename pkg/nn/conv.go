package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
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
// visiting oh×ow positions. The column matrix has c·kh·kw rows and oh·ow
// columns: col[(ci·kh+ki)·kw+kj][oy·ow+ox] = img[ci][oy·sh−ph+ki][ox·sw−pw+kj]
// (0 outside the image).
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

// im2col writes the column matrix of img into col.
func (g *geom) im2col(col, img []float32) {
	P := g.oh * g.ow
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := img[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				dst := col[r*P : (r+1)*P]
				r++
				lo, hi := span(kj, g.sw, g.pw, g.w, g.ow)
				off := kj - g.pw
				for oy := 0; oy < g.oh; oy++ {
					d := dst[oy*g.ow : (oy+1)*g.ow]
					iy := oy*g.sh - g.ph + ki
					if iy < 0 || iy >= g.h {
						clear(d)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					clear(d[:lo])
					clear(d[hi:])
					if g.sw == 1 {
						copy(d[lo:hi], src[lo+off:hi+off])
					} else {
						for ox := lo; ox < hi; ox++ {
							d[ox] = src[ox*g.sw+off]
						}
					}
				}
			}
		}
	}
}

// col2im adds the column matrix col back into img (the adjoint of im2col).
func (g *geom) col2im(img, col []float32) {
	P := g.oh * g.ow
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := img[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				src := col[r*P : (r+1)*P]
				r++
				lo, hi := span(kj, g.sw, g.pw, g.w, g.ow)
				off := kj - g.pw
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki
					if iy < 0 || iy >= g.h {
						continue
					}
					s := src[oy*g.ow : (oy+1)*g.ow]
					d := plane[iy*g.w : (iy+1)*g.w]
					if g.sw == 1 {
						dd := d[lo+off : hi+off]
						for k, v := range s[lo:hi] {
							dd[k] += v
						}
					} else {
						for ox := lo; ox < hi; ox++ {
							d[ox*g.sw+off] += s[ox]
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
	col, y, dx  []float32
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

func fillBias(y []float32, b []float32, P int) {
	for o, v := range b {
		row := y[o*P : (o+1)*P]
		for i := range row {
			row[i] = v
		}
	}
}

func addBiasGrad(gb []float32, dy []float32, P int) {
	for o := range gb {
		var s float32
		for _, v := range dy[o*P : (o+1)*P] {
			s += v
		}
		gb[o] += s
	}
}

// Conv2D is a 2-D convolution (cross-correlation, as PyTorch's nn.Conv2d)
// over N×InC×H×W input with an OutC×InC×KH×KW weight and OutC biases:
//
//	y[n,o,i,j] = b[o] + Σ_{c,ki,kj} W[o,c,ki,kj]·x[n,c,i·sh−ph+ki, j·sw−pw+kj]
//
// (zero outside the input), giving N×OutC×OH×OW with
// OH = ⌊(H+2·PadH−KH)/StrideH⌋+1 and OW likewise. It is computed per
// example by im2col and one gemm.Sgemm (a 1×1 stride-1 unpadded
// convolution skips im2col); Backward recomputes the im2col matrix rather
// than storing N of them, then two products (dW, dcol) and col2im.
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
func (c *Conv2D) Forward(x Tensor, training bool) Tensor {
	c.setup(x)
	K, P := c.InC*c.Win.KH*c.Win.KW, c.oP
	direct := c.Win.direct()
	if !direct {
		c.col = grow(c.col, K*P)
	}
	c.y = grow(c.y, x.N*c.OutC*P)
	for n := 0; n < x.N; n++ {
		xn := x.Data[n*c.inPerEx : (n+1)*c.inPerEx]
		yn := c.y[n*c.OutC*P : (n+1)*c.OutC*P]
		fillBias(yn, c.B, P)
		col := xn
		if !direct {
			c.g.im2col(c.col, xn)
			col = c.col
		}
		gemm.Sgemm(false, false, c.OutC, P, K, 1, c.W, K, col, P, 1, yn, P)
	}
	return Tensor{Data: c.y, N: x.N, Shape: c.outShape}
}

// Backward accumulates dW and db and returns dx.
func (c *Conv2D) Backward(dy Tensor) Tensor { return c.backward(dy, true) }

// BackwardParams accumulates dW and db only.
func (c *Conv2D) BackwardParams(dy Tensor) { c.backward(dy, false) }

func (c *Conv2D) backward(dy Tensor, needDx bool) Tensor {
	x := c.x
	K, P := c.InC*c.Win.KH*c.Win.KW, c.oP
	if dy.N != x.N || dy.Shape.Size() != c.OutC*P || len(dy.Data) < x.N*c.OutC*P {
		panic("nn: Conv2D.Backward: shape differs from the last Forward")
	}
	direct := c.Win.direct()
	if !direct {
		c.col = grow(c.col, K*P)
	}
	if needDx {
		c.dx = grow(c.dx, x.N*c.inPerEx)
	}
	for n := 0; n < x.N; n++ {
		xn := x.Data[n*c.inPerEx : (n+1)*c.inPerEx]
		dyn := dy.Data[n*c.OutC*P : (n+1)*c.OutC*P]
		col := xn
		if !direct {
			c.g.im2col(c.col, xn)
			col = c.col
		}
		gemm.Sgemm(false, true, c.OutC, K, P, 1, dyn, P, col, P, 1, c.GW, K)
		addBiasGrad(c.GB, dyn, P)
		if !needDx {
			continue
		}
		dxn := c.dx[n*c.inPerEx : (n+1)*c.inPerEx]
		if direct {
			gemm.Sgemm(true, false, K, P, c.OutC, 1, c.W, K, dyn, P, 0, dxn, P)
			continue
		}
		gemm.Sgemm(true, false, K, P, c.OutC, 1, c.W, K, dyn, P, 0, c.col, P)
		clear(dxn)
		c.g.col2im(dxn, c.col)
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
// likewise). Each example is one gemm.Sgemm (Wᵀ·x) and col2im; Backward is
// im2col of dy and two products. It is the learned upsampling of the
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

// Forward computes the transposed convolution.
func (c *ConvTranspose2D) Forward(x Tensor, training bool) Tensor {
	c.setup(x)
	K := c.OutC * c.Win.KH * c.Win.KW
	P := c.g.oh * c.g.ow // input positions
	OP := c.oP           // output positions
	direct := c.Win.direct()
	if !direct {
		c.col = grow(c.col, K*P)
	}
	c.y = grow(c.y, x.N*c.OutC*OP)
	for n := 0; n < x.N; n++ {
		xn := x.Data[n*c.inPerEx : (n+1)*c.inPerEx]
		yn := c.y[n*c.OutC*OP : (n+1)*c.OutC*OP]
		fillBias(yn, c.B, OP)
		if direct {
			gemm.Sgemm(true, false, K, P, c.InC, 1, c.W, K, xn, P, 1, yn, P)
			continue
		}
		gemm.Sgemm(true, false, K, P, c.InC, 1, c.W, K, xn, P, 0, c.col, P)
		c.g.col2im(yn, c.col)
	}
	return Tensor{Data: c.y, N: x.N, Shape: c.outShape}
}

// Backward accumulates dW and db and returns dx.
func (c *ConvTranspose2D) Backward(dy Tensor) Tensor { return c.backward(dy, true) }

// BackwardParams accumulates dW and db only.
func (c *ConvTranspose2D) BackwardParams(dy Tensor) { c.backward(dy, false) }

func (c *ConvTranspose2D) backward(dy Tensor, needDx bool) Tensor {
	x := c.x
	K := c.OutC * c.Win.KH * c.Win.KW
	P := c.g.oh * c.g.ow
	OP := c.oP
	if dy.N != x.N || dy.Shape.Size() != c.OutC*OP || len(dy.Data) < x.N*c.OutC*OP {
		panic("nn: ConvTranspose2D.Backward: shape differs from the last Forward")
	}
	direct := c.Win.direct()
	if !direct {
		c.col = grow(c.col, K*P)
	}
	if needDx {
		c.dx = grow(c.dx, x.N*c.inPerEx)
	}
	for n := 0; n < x.N; n++ {
		xn := x.Data[n*c.inPerEx : (n+1)*c.inPerEx]
		dyn := dy.Data[n*c.OutC*OP : (n+1)*c.OutC*OP]
		dcol := dyn
		if !direct {
			c.g.im2col(c.col, dyn)
			dcol = c.col
		}
		gemm.Sgemm(false, true, c.InC, K, P, 1, xn, P, dcol, P, 1, c.GW, K)
		addBiasGrad(c.GB, dyn, OP)
		if needDx {
			dxn := c.dx[n*c.inPerEx : (n+1)*c.inPerEx]
			gemm.Sgemm(false, false, c.InC, P, K, 1, c.W, K, dcol, P, 0, dxn, P)
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
