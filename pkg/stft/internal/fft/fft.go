package fft

import (
	"fmt"
	"math"
)

// stage is one radix-4 (or final radix-2) Stockham pass over sub-sequences
// of length l with stride s: l*s = m.
type stage struct {
	l, s       int
	w1, w2, w3 []complex128 // for p < l/4: w^p, w^2p, w^3p with w = exp(-2πi/l)
}

// Real is a plan for the forward FFT of real sequences of length n, a power
// of two >= 4. It is not safe for concurrent use.
type Real struct {
	n, m   int
	stages []stage
	z, w   []complex128 // m: packed input / work buffer
	split  []complex128 // exp(-2πik/n) for k <= m/2
}

// IsPow2 reports whether n is a power of two >= 4, the lengths NewReal takes.
func IsPow2(n int) bool { return n >= 4 && n&(n-1) == 0 }

// NewReal returns a plan for real sequences of length n. It panics unless
// IsPow2(n).
func NewReal(n int) *Real {
	if !IsPow2(n) {
		panic(fmt.Sprintf("fft: length %d is not a power of two >= 4", n))
	}
	m := n / 2
	p := &Real{n: n, m: m, z: make([]complex128, m), w: make([]complex128, m), split: make([]complex128, m/2+1)}
	for l, s := m, 1; l > 1; {
		st := stage{l: l, s: s}
		if l >= 4 {
			n1 := l / 4
			st.w1, st.w2, st.w3 = make([]complex128, n1), make([]complex128, n1), make([]complex128, n1)
			for q := range n1 {
				th := -2 * math.Pi * float64(q) / float64(l)
				st.w1[q], st.w2[q], st.w3[q] = expi(th), expi(2*th), expi(3*th)
			}
			l, s = l/4, s*4
		} else {
			l, s = l/2, s*2
		}
		p.stages = append(p.stages, st)
	}
	for k := range p.split {
		p.split[k] = expi(-2 * math.Pi * float64(k) / float64(n))
	}
	return p
}

func expi(th float64) complex128 {
	s, c := math.Sincos(th)
	return complex(c, s)
}

// Len returns n.
func (p *Real) Len() int { return p.n }

// Input returns the packed input buffer of m = n/2 values: the caller writes
// complex(x[2k], x[2k+1]) at index k and then calls Transform. Packing in the
// caller lets it fuse windowing and type conversion into the same pass.
func (p *Real) Input() []complex128 { return p.z }

// Transform computes the one-sided spectrum X[k] = Σ_j x[j] exp(-2πijk/n),
// k = 0..n/2, of the sequence packed in Input(), into dst, unnormalised (as
// gonum's FFT.Coefficients and numpy.fft.rfft). It overwrites Input(), does
// not allocate and panics if len(dst) != n/2+1.
func (p *Real) Transform(dst []complex128) {
	m := p.m
	if len(dst) != m+1 {
		panic("fft: destination length mismatch")
	}
	z := p.cfft()
	z = z[:m]
	// Split: with a = Z[k], b = conj(Z[m-k]), E = (a+b)/2, O = -i(a-b)/2,
	// X[k] = E + W^k O and X[m-k] = conj(E - W^k O).
	z0 := z[0]
	dst[0] = complex(real(z0)+imag(z0), 0)
	dst[m] = complex(real(z0)-imag(z0), 0)
	tw := p.split[:m/2+1]
	for k := 1; k <= m/2; k++ {
		a := z[k]
		b := z[m-k]
		er, ei := 0.5*(real(a)+real(b)), 0.5*(imag(a)-imag(b))
		// O = -i*(a - conj(b))/2 = ((ai + bi) - i(ar - br))/2
		or, oi := 0.5*(imag(a)+imag(b)), -0.5*(real(a)-real(b))
		w := tw[k]
		tr := real(w)*or - imag(w)*oi
		ti := real(w)*oi + imag(w)*or
		dst[k] = complex(er+tr, ei+ti)
		dst[m-k] = complex(er-tr, ti-ei)
	}
}

// Power is Transform followed by dst[k] = |X[k]|², fused: the complex
// spectrum is never stored. It overwrites Input(), does not allocate and
// panics if len(dst) != n/2+1.
func (p *Real) Power(dst []float64) {
	m := p.m
	if len(dst) != m+1 {
		panic("fft: destination length mismatch")
	}
	z := p.cfft()
	z = z[:m]
	z0 := z[0]
	dst[0] = (real(z0) + imag(z0)) * (real(z0) + imag(z0))
	dst[m] = (real(z0) - imag(z0)) * (real(z0) - imag(z0))
	h := m / 2
	tw := p.split[1 : h+1]
	lo := z[1 : h+1]
	hi := dst[h:m]
	for i, a := range lo {
		k := i + 1
		b := z[m-k]
		er, ei := 0.5*(real(a)+real(b)), 0.5*(imag(a)-imag(b))
		or, oi := 0.5*(imag(a)+imag(b)), -0.5*(real(a)-real(b))
		w := tw[i]
		tr := real(w)*or - imag(w)*oi
		ti := real(w)*oi + imag(w)*or
		xr, xi := er+tr, ei+ti
		dst[k] = xr*xr + xi*xi
		yr, yi := er-tr, ti-ei
		hi[h-k] = yr*yr + yi*yi
	}
}

// cfft runs the m-point complex FFT of p.z and returns the slice holding the
// result (p.z or p.w).
func (p *Real) cfft() []complex128 {
	x, y := p.z, p.w
	for _, st := range p.stages {
		if st.l == 2 {
			radix2(y, x, st.s)
		} else {
			radix4(y, x, st)
		}
		x, y = y, x
	}
	return x
}

// radix2 is the last pass when log2(m) is odd: l = 2, stride s = m/2.
func radix2(y, x []complex128, s int) {
	x0, x1 := x[:s], x[s:2*s]
	y0, y1 := y[:s], y[s:2*s]
	for q, a := range x0 {
		b := x1[q]
		y0[q] = a + b
		y1[q] = a - b
	}
}

// radix4 is one Stockham decimation-in-frequency pass: for p < l/4 and
// q < s, with a..d = x[q + s*(p + j*l/4)], j = 0..3,
//
//	y[q + s*(4p+0)] = (a+c) + (b+d)
//	y[q + s*(4p+1)] = w^p  * ((a-c) - i(b-d))
//	y[q + s*(4p+2)] = w^2p * ((a+c) - (b+d))
//	y[q + s*(4p+3)] = w^3p * ((a-c) + i(b-d))
func radix4(y, x []complex128, st stage) {
	l, s := st.l, st.s
	n1 := l / 4
	tw1, tw2, tw3 := st.w1[:n1], st.w2[:n1], st.w3[:n1]
	if s == 1 {
		xa, xb, xc, xd := x[0:n1], x[n1:2*n1], x[2*n1:3*n1], x[3*n1:4*n1]
		y = y[:4*n1]
		for p := range xa {
			a, b, c, d := xa[p], xb[p], xc[p], xd[p]
			w1, w2, w3 := tw1[p], tw2[p], tw3[p]
			apc, amc := a+c, a-c
			bpd, bmd := b+d, b-d
			jbmd := complex(-imag(bmd), real(bmd))
			yy := y[4*p : 4*p+4 : 4*p+4]
			yy[0] = apc + bpd
			yy[1] = w1 * (amc - jbmd)
			yy[2] = w2 * (apc - bpd)
			yy[3] = w3 * (amc + jbmd)
		}
		return
	}
	for p := range n1 {
		w1, w2, w3 := tw1[p], tw2[p], tw3[p]
		xa := x[s*p : s*p+s]
		xb := x[s*(p+n1) : s*(p+n1)+s]
		xc := x[s*(p+2*n1) : s*(p+2*n1)+s]
		xd := x[s*(p+3*n1) : s*(p+3*n1)+s]
		yb := y[4*s*p : 4*s*p+4*s]
		y0, y1, y2, y3 := yb[0:s], yb[s:2*s], yb[2*s:3*s], yb[3*s:4*s]
		if p == 0 {
			for q, a := range xa {
				b, c, d := xb[q], xc[q], xd[q]
				apc, amc := a+c, a-c
				bpd, bmd := b+d, b-d
				jbmd := complex(-imag(bmd), real(bmd))
				y0[q] = apc + bpd
				y1[q] = amc - jbmd
				y2[q] = apc - bpd
				y3[q] = amc + jbmd
			}
			continue
		}
		for q, a := range xa {
			b, c, d := xb[q], xc[q], xd[q]
			apc, amc := a+c, a-c
			bpd, bmd := b+d, b-d
			jbmd := complex(-imag(bmd), real(bmd))
			y0[q] = apc + bpd
			y1[q] = w1 * (amc - jbmd)
			y2[q] = w2 * (apc - bpd)
			y3[q] = w3 * (amc + jbmd)
		}
	}
}
