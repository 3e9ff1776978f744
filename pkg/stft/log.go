package stft

import "math"

// logTableBits is the number of leading mantissa bits that index the tables.
const logTableBits = 7

// logInvC[i] = 1/c_i and logLnC[i] = ln(c_i), with c_i = 1 + (i+0.5)/128 the
// centre of the i-th of 128 equal slices of the mantissa range [1, 2).
var logInvC, logLnC [1 << logTableBits]float64

func init() {
	for i := range logInvC {
		c := 1 + (float64(i)+0.5)/(1<<logTableBits)
		logInvC[i] = 1 / c
		logLnC[i] = math.Log(c)
	}
}

// logTo sets dst[i] = scale*ln(max(src[i], floor) + eps) for i < len(src).
//
// The logarithm is table-driven: for a normal, finite x > 0 it writes
// x = 2^e * m with m in [1, 2), takes the table slice c of m's leading 7 bits,
// and evaluates
//
//	ln x = e*ln2 + ln c + log1p(r),  r = m/c - 1,  |r| <= 1/257,
//
// with log1p(r) ≈ r - r²/2 + r³/3 - r⁴/4, whose truncation error is below
// |r|⁵/5 ≈ 2e-13 (absolute). Zero, subnormal, negative, infinite and NaN
// values go to math.Log. It is about twice as fast as math.Log on amd64 and is
// checked against it in TestLogTo. It panics if len(dst) < len(src).
func logTo(dst []float32, src []float64, scale, floor, eps float64) {
	dst = dst[:len(src)]
	for i, x := range src {
		if x < floor {
			x = floor
		}
		x += eps
		b := math.Float64bits(x)
		exp := b >> 52 // sign bit included: negative x lands above 0x7ff
		if exp-1 >= 0x7fe {
			dst[i] = float32(scale * slowLog(x))
			continue
		}
		j := (b >> (52 - logTableBits)) & (1<<logTableBits - 1)
		r := math.Float64frombits(b&(1<<52-1)|1023<<52)*logInvC[j] - 1
		l := float64(int(exp)-1023)*math.Ln2 + logLnC[j] + r*(1+r*(-0.5+r*(1.0/3+r*-0.25)))
		dst[i] = float32(scale * l)
	}
}

// slowLog is math.Log kept out of line, for the rare special values.
//
//go:noinline
func slowLog(x float64) float64 { return math.Log(x) }
