package vec

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Kernels returns "avx2" when the assembly kernels are in use, else "go".
func Kernels() string {
	if asm() {
		return "avx2"
	}
	return "go"
}

var pureGo atomic.Bool

// SetPureGo makes every function run its pure-Go loop (on) or the
// assembly where the CPU has it (off, the default). It exists so that a
// test can compare the two in one process (pkg/nn's training-curve test);
// -tags noasm removes the assembly from the build instead.
func SetPureGo(on bool) { pureGo.Store(on) }

func asm() bool { return hasAsm && !pureGo.Load() }

func need(who string, ok bool) {
	if !ok {
		panic(fmt.Sprintf("vec: %s: slice too short for its shape", who))
	}
}

// ColSums adds the column sums of the n×c matrix x to s1 and the column
// sums of squares to s2: s1[j] += Σ_i x[i,j], s2[j] += Σ_i x[i,j]², in
// float64.
func ColSums(s1, s2 []float64, x []float32, n, c int) {
	need("ColSums", len(s1) >= c && len(s2) >= c && len(x) >= n*c)
	if parts := split(n*c, c/16); parts > 1 {
		j := getJob(opColSums)
		j.s1, j.s2, j.a, j.n, j.c = s1, s2, x, n, c
		j.cols(parts)
		return
	}
	colSumsRange(s1, s2, x, n, c, 0, c)
}

// colSumsRange is ColSums on the columns [j0, j1).
func colSumsRange(s1, s2 []float64, x []float32, n, c, j0, j1 int) {
	j := j0
	if asm() && n > 0 && j1-j0 >= 8 {
		j = j0 + (j1-j0)&^7
		colSums(&s1[j0], &s2[j0], &x[j0], n, c, j-j0)
	}
	if j < j1 {
		colSumsGo(s1, s2, x, n, c, j, j1)
	}
}

func colSumsGo(s1, s2 []float64, x []float32, n, c, j0, j1 int) {
	s1, s2 = s1[j0:j1], s2[j0:j1]
	for i := 0; i < n; i++ {
		row := x[i*c+j0 : i*c+j1]
		for j, v := range row {
			f := float64(v)
			s1[j] += f
			s2[j] += f * f
		}
	}
}

// ColDotSums adds the column sums of the n×c matrix g to sg and those of
// the elementwise product g∘x to sgx: sg[j] += Σ_i g[i,j],
// sgx[j] += Σ_i g[i,j]·x[i,j], in float64.
func ColDotSums(sg, sgx []float64, g, x []float32, n, c int) {
	need("ColDotSums", len(sg) >= c && len(sgx) >= c && len(g) >= n*c && len(x) >= n*c)
	if parts := split(n*c, c/16); parts > 1 {
		j := getJob(opColDotSums)
		j.s1, j.s2, j.a, j.b, j.n, j.c = sg, sgx, g, x, n, c
		j.cols(parts)
		return
	}
	colDotSumsRange(sg, sgx, g, x, n, c, 0, c)
}

// colDotSumsRange is ColDotSums on the columns [j0, j1).
func colDotSumsRange(sg, sgx []float64, g, x []float32, n, c, j0, j1 int) {
	j := j0
	if asm() && n > 0 && j1-j0 >= 8 {
		j = j0 + (j1-j0)&^7
		colDotSums(&sg[j0], &sgx[j0], &g[j0], &x[j0], n, c, j-j0)
	}
	if j < j1 {
		colDotSumsGo(sg, sgx, g, x, n, c, j, j1)
	}
}

func colDotSumsGo(sg, sgx []float64, g, x []float32, n, c, j0, j1 int) {
	sg, sgx = sg[j0:j1], sgx[j0:j1]
	for i := 0; i < n; i++ {
		gs, xs := g[i*c+j0:i*c+j1], x[i*c+j0:i*c+j1]
		for j, v := range gs {
			f := float64(v)
			sg[j] += f
			sgx[j] += f * float64(xs[j])
		}
	}
}

// ColDotSumsMasked is ColDotSums of g = dy masked by y > 0 (the gradient
// through a ReLU whose output is y, as ReLUMask), writing g to gout in the
// same pass: gout[i,j] = dy[i,j] where y[i,j] > 0, else 0;
// sg[j] += Σ_i gout[i,j], sgx[j] += Σ_i gout[i,j]·x[i,j]. gout may be dy.
func ColDotSumsMasked(sg, sgx []float64, gout, dy, y, x []float32, n, c int) {
	need("ColDotSumsMasked", len(sg) >= c && len(sgx) >= c && len(gout) >= n*c && len(dy) >= n*c && len(y) >= n*c && len(x) >= n*c)
	if parts := split(n*c, c/16); parts > 1 {
		j := getJob(opColDotSumsMask)
		j.s1, j.s2, j.dst, j.a, j.b, j.d, j.n, j.c = sg, sgx, gout, dy, y, x, n, c
		j.cols(parts)
		return
	}
	colDotSumsMaskRange(sg, sgx, gout, dy, y, x, n, c, 0, c)
}

// colDotSumsMaskRange is ColDotSumsMasked on the columns [j0, j1).
func colDotSumsMaskRange(sg, sgx []float64, gout, dy, y, x []float32, n, c, j0, j1 int) {
	j := j0
	if asm() && n > 0 && j1-j0 >= 8 {
		j = j0 + (j1-j0)&^7
		colDotSumsMask(&sg[j0], &sgx[j0], &gout[j0], &dy[j0], &y[j0], &x[j0], n, c, j-j0)
	}
	if j < j1 {
		for i := 0; i < n; i++ {
			o := i * c
			reluMaskGo(gout[o+j:o+j1], dy[o+j:o+j1], y[o+j:o+j1])
		}
		colDotSumsGo(sg, sgx, gout, x, n, c, j, j1)
	}
}

// AffineRows writes y[i,j] = (x[i,j] − mu[j])·sc[j] + sh[j] for the n×c
// matrices x and y, then y = max(y, 0) when relu (NaN stays NaN; a −0
// may stay −0). y may be x.
func AffineRows(y, x []float32, n, c int, mu, sc, sh []float32, relu bool) {
	need("AffineRows", len(y) >= n*c && len(x) >= n*c && len(mu) >= c && len(sc) >= c && len(sh) >= c)
	if parts := split(n*c, n); parts > 1 {
		j := getJob(opAffineRows)
		j.dst, j.a, j.n, j.c, j.k0, j.k1, j.k2, j.relu = y, x, n, c, mu, sc, sh, relu
		j.rows(parts)
		return
	}
	affineRowsRange(y, x, n, c, mu, sc, sh, relu)
}

func affineRowsRange(y, x []float32, n, c int, mu, sc, sh []float32, relu bool) {
	j := 0
	if asm() && n > 0 && c >= 8 {
		j = c &^ 7
		affineRows(&y[0], &x[0], n, c, j, &mu[0], &sc[0], &sh[0], b2i(relu))
	}
	if j < c {
		affineRowsGo(y, x, n, c, j, mu, sc, sh, relu)
	}
}

func affineRowsGo(y, x []float32, n, c, j0 int, mu, sc, sh []float32, relu bool) {
	mu, sc, sh = mu[j0:c], sc[j0:c], sh[j0:c]
	for i := 0; i < n; i++ {
		xs, ys := x[i*c+j0:i*c+c], y[i*c+j0:i*c+c]
		ys = ys[:len(xs)]
		if relu {
			for j, v := range xs {
				ys[j] = max((v-mu[j])*sc[j]+sh[j], 0)
			}
		} else {
			for j, v := range xs {
				ys[j] = (v-mu[j])*sc[j] + sh[j]
			}
		}
	}
}

// GradRows writes dx[i,j] = k[j]·g[i,j] + p[j]·(x[i,j] − mu[j]) + q[j] for
// the n×c matrices dx, g and x (BatchNorm's input gradient). dx may be g.
func GradRows(dx, g, x []float32, n, c int, k, p, mu, q []float32) {
	need("GradRows", len(dx) >= n*c && len(g) >= n*c && len(x) >= n*c && len(k) >= c && len(p) >= c && len(mu) >= c && len(q) >= c)
	if parts := split(n*c, n); parts > 1 {
		j := getJob(opGradRows)
		j.dst, j.a, j.b, j.n, j.c, j.k0, j.k1, j.k2, j.k3 = dx, g, x, n, c, k, p, mu, q
		j.rows(parts)
		return
	}
	gradRowsRange(dx, g, x, n, c, k, p, mu, q)
}

func gradRowsRange(dx, g, x []float32, n, c int, k, p, mu, q []float32) {
	j := 0
	if asm() && n > 0 && c >= 8 {
		j = c &^ 7
		gradRows(&dx[0], &g[0], &x[0], n, c, j, &k[0], &p[0], &mu[0], &q[0])
	}
	if j < c {
		gradRowsGo(dx, g, x, n, c, j, k, p, mu, q)
	}
}

func gradRowsGo(dx, g, x []float32, n, c, j0 int, k, p, mu, q []float32) {
	k, p, mu, q = k[j0:c], p[j0:c], mu[j0:c], q[j0:c]
	for i := 0; i < n; i++ {
		gs, xs, ds := g[i*c+j0:i*c+c], x[i*c+j0:i*c+c], dx[i*c+j0:i*c+c]
		xs, ds = xs[:len(gs)], ds[:len(gs)]
		for j, v := range gs {
			ds[j] = k[j]*v + p[j]*(xs[j]-mu[j]) + q[j]
		}
	}
}

// ReLUMask writes dx[i] = dy[i] where y[i] > 0 and 0 elsewhere (also where
// y[i] is NaN or −0), for i < len(dx): the gradient through a ReLU whose
// output is y. dx may be dy.
func ReLUMask(dx, dy, y []float32) {
	n := len(dx)
	need("ReLUMask", len(dy) >= n && len(y) >= n)
	if parts := split(n, n/8); parts > 1 {
		j := getJob(opReLUMask)
		j.dst, j.a, j.b, j.n = dx, dy, y, n
		j.span(parts)
		return
	}
	reluMaskRange(dx, dy, y)
}

func reluMaskRange(dx, dy, y []float32) {
	n := len(dx)
	i := 0
	if asm() && n >= 8 {
		i = n &^ 7
		reluMask(&dx[0], &dy[0], &y[0], i)
	}
	if i < n {
		reluMaskGo(dx[i:], dy[i:n], y[i:n])
	}
}

// reluMaskGo is branch-free: the signs of activations are random, and a
// branch mispredicts half the time (10× slower, measured on 512×128
// values).
func reluMaskGo(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, yv := range y {
		// y > 0 (ordered) ⇔ 0 < bits ≤ 0x7f800000 ⇔ bits−1 < 0x7f800000;
		// the sign of (bits−1) − 0x7f800000 in 64 bits is the mask.
		b := int64(math.Float32bits(yv) - 1)
		m := uint32((b - 0x7f800000) >> 63)
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}

// AdamCoef holds the per-step constants of an Adam update (see Adam).
type AdamCoef struct {
	Decay  float32 // θ ← θ·Decay first (AdamW's decoupled weight decay; 1 for none)
	WD     float32 // g ← g + WD·θ (Adam's L2 term; 0 for none)
	B1, C1 float32 // m ← B1·m + C1·g
	B2, C2 float32 // v ← B2·v + C2·g²
	Step   float32 // lr / (1 − β1^t)
	IBC2   float32 // 1 / sqrt(1 − β2^t)
	Eps    float32
}

// Adam applies one Adam update to w with gradient g and moments m, v (all
// of len(w)) and zeroes g:
//
//	θ ← θ·Decay; g ← g + WD·θ; m ← B1·m + C1·g; v ← B2·v + C2·g²
//	θ ← θ − Step·m / (sqrt(v)·IBC2 + Eps)
func Adam(w, g, m, v []float32, h *AdamCoef) {
	n := len(w)
	need("Adam", len(g) >= n && len(m) >= n && len(v) >= n)
	if parts := split(n, n/8); parts > 1 {
		j := getJob(opAdam)
		j.dst, j.a, j.b, j.d, j.n, j.h = w, g, m, v, n, *h
		j.span(parts)
		return
	}
	adamRange(w, g, m, v, h)
}

func adamRange(w, g, m, v []float32, h *AdamCoef) {
	n := len(w)
	i := 0
	if asm() && n >= 8 {
		i = n &^ 7
		var k [9][8]float32
		for j, c := range [9]float32{h.Decay, h.WD, h.B1, h.C1, h.B2, h.C2, h.Step, h.IBC2, h.Eps} {
			k[j] = [8]float32{c, c, c, c, c, c, c, c}
		}
		adam(&w[0], &g[0], &m[0], &v[0], i, &k)
	}
	if i < n {
		adamGo(w[i:], g[i:n], m[i:n], v[i:n], h)
	}
}

func adamGo(w, g, m, v []float32, h *AdamCoef) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	decay, wd, b1, c1, b2, c2, step, ibc2, eps := h.Decay, h.WD, h.B1, h.C1, h.B2, h.C2, h.Step, h.IBC2, h.Eps
	for i, gi := range g {
		wi := w[i] * decay
		gi += wd * wi
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		w[i] = wi - step*mi/(float32(math.Sqrt(float64(vi)))*ibc2+eps)
		g[i] = 0
	}
}

// SqDiff returns Σ(pred[i] − target[i])² over i < len(pred), accumulated in
// float64, and writes grad[i] = s·(pred[i] − target[i]) when grad is not
// nil (MSE and its gradient in one pass).
func SqDiff(grad, pred, target []float32, s float32) float64 {
	n := len(pred)
	need("SqDiff", len(target) >= n && (grad == nil || len(grad) >= n))
	// The sum is taken over fixed blocks of sqBlock values, added in order,
	// whether or not the blocks run on several goroutines: the result does
	// not depend on GOMAXPROCS.
	blocks := (n + sqBlock - 1) / sqBlock
	if parts := split(n, blocks); parts > 1 {
		j := getJob(opSqDiff)
		j.dst, j.a, j.b, j.n, j.scale = grad, pred, target, n, s
		j.partial = grow64(j.partial, blocks)
		j.span(parts)
		var sum float64
		for _, v := range j.partial {
			sum += v
		}
		putJob(j)
		return sum
	}
	var sum float64
	for lo := 0; lo < n; lo += sqBlock {
		sum += sqDiffBlock(grad, pred, target, lo, min(lo+sqBlock, n), s)
	}
	return sum
}

// sqBlock is the block of SqDiff's partial sums.
const sqBlock = 1 << 14

// sqDiffBlock is SqDiff on [lo, hi).
func sqDiffBlock(grad, pred, target []float32, lo, hi int, s float32) float64 {
	var g []float32
	if grad != nil {
		g = grad[lo:hi]
	}
	return sqDiffRange(g, pred[lo:hi], target[lo:hi], s)
}

func sqDiffRange(grad, pred, target []float32, s float32) float64 {
	n := len(pred)
	var sum float64
	i := 0
	if asm() && n >= 8 {
		i = n &^ 7
		var gp *float32
		if grad != nil {
			gp = &grad[0]
		}
		sum = sqDiff(gp, &pred[0], &target[0], i, s)
	}
	if i < n {
		var gt []float32
		if grad != nil {
			gt = grad[i:n]
		}
		sum += sqDiffGo(gt, pred[i:], target[i:n], s)
	}
	return sum
}

func sqDiffGo(grad, pred, target []float32, s float32) float64 {
	target = target[:len(pred)]
	var sum float64
	if grad == nil {
		for i, p := range pred {
			d := float64(p - target[i])
			sum += d * d
		}
		return sum
	}
	grad = grad[:len(pred)]
	for i, p := range pred {
		d := p - target[i]
		sum += float64(d) * float64(d)
		grad[i] = s * d
	}
	return sum
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Transpose writes dst = srcᵀ for the rows×cols matrix src (dst is
// cols×rows): dst[j*rows+i] = src[i*cols+j]. It works in 8×8 blocks.
func Transpose(dst, src []float32, rows, cols int) {
	n := rows * cols
	need("Transpose", len(dst) >= n && len(src) >= n)
	if n == 0 {
		return
	}
	dst, src = dst[:n], src[:n]
	r8, c8 := rows&^7, cols&^7
	if asm() {
		for i := 0; i < r8; i += 8 {
			for j := 0; j < c8; j += 8 {
				transpose8(&dst[j*rows+i], rows, &src[i*cols+j], cols)
			}
		}
	} else {
		transposeGo(dst, src, rows, cols, 0, r8, 0, c8)
	}
	transposeGo(dst, src, rows, cols, 0, rows, c8, cols) // right edge
	transposeGo(dst, src, rows, cols, r8, rows, 0, c8)   // bottom edge
}

// transposeGo transposes the block [i0, i1)×[j0, j1) of src in 8×8 tiles.
func transposeGo(dst, src []float32, rows, cols, i0, i1, j0, j1 int) {
	for ib := i0; ib < i1; ib += 8 {
		ie := min(ib+8, i1)
		for jb := j0; jb < j1; jb += 8 {
			je := min(jb+8, j1)
			for i := ib; i < ie; i++ {
				for j, v := range src[i*cols+jb : i*cols+je] {
					dst[(jb+j)*rows+i] = v
				}
			}
		}
	}
}

// runsFit reports whether n runs of l floats, strides ds and ss, fit dst
// and src.
func runsFit(dst []float32, ds int, src []float32, ss, n, l int) bool {
	return n <= 0 || l <= 0 || ds >= 0 && ss >= 0 && len(dst) >= (n-1)*ds+l && len(src) >= (n-1)*ss+l
}

// CopyRuns copies n runs of l floats, run i from src[i*ss:] to dst[i*ds:]
// (the rows of an im2col matrix; strides in elements, ≥ 0). Runs must not
// overlap in dst.
func CopyRuns(dst []float32, ds int, src []float32, ss int, n, l int) {
	need("CopyRuns", runsFit(dst, ds, src, ss, n, l))
	if n <= 0 || l <= 0 {
		return
	}
	if asm() && (l == 4 || l == 3) {
		if l == 4 {
			copyRuns4(&dst[0], ds, &src[0], ss, n)
		} else {
			copyRuns3(&dst[0], ds, &src[0], ss, n)
		}
		return
	}
	for i := 0; i < n; i++ {
		copy(dst[i*ds:i*ds+l], src[i*ss:i*ss+l])
	}
}

// AddRuns adds n runs of l floats, run i of src[i*ss:] onto dst[i*ds:], in
// order of i, so runs may overlap in dst (col2im with a stride smaller
// than the window).
func AddRuns(dst []float32, ds int, src []float32, ss int, n, l int) {
	need("AddRuns", runsFit(dst, ds, src, ss, n, l))
	if n <= 0 || l <= 0 {
		return
	}
	if asm() {
		addRuns(&dst[0], ds, &src[0], ss, n, l)
		return
	}
	for i := 0; i < n; i++ {
		d := dst[i*ds : i*ds+l]
		for j, v := range src[i*ss : i*ss+l] {
			d[j] += v
		}
	}
}
