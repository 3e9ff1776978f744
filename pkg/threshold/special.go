package threshold

import "math"

// The functions below serve the gamma shape equation ln k − ψ(k) = s. They
// use the recurrences ψ(x) = ψ(x+1) − 1/x, ψ'(x) = ψ'(x+1) + 1/x² to reach
// x ≥ 10 and then the asymptotic series (DLMF 5.11.2 and its derivative)
// through the Bernoulli number B₁₄, whose first omitted term is below 1e-16
// there. The differences ln x − ψ(x) and 1 − x·ψ'(x), which cancel badly for
// large x, are summed directly from their series.

const asymptoticFrom = 10

// logMinusDigamma returns ln x − ψ(x) for x > 0. For x ≥ 10:
// 1/(2x) + Σ B₂ₖ/(2k x²ᵏ) = 1/(2x) + 1/(12x²) − 1/(120x⁴) + 1/(252x⁶)
// − 1/(240x⁸) + 1/(132x¹⁰) − 691/(32760x¹²) + 1/(12x¹⁴).
func logMinusDigamma(x float64) float64 {
	var acc float64
	y := x
	for y < asymptoticFrom {
		acc += 1 / y
		y++
	}
	z := 1 / (y * y)
	series := 1/(2*y) + z*(1.0/12-z*(1.0/120-z*(1.0/252-z*(1.0/240-z*(1.0/132-z*(691.0/32760-z*(1.0/12)))))))
	if y == x {
		return series
	}
	// ln x − ψ(x) = ln x − ln y + (ln y − ψ(y)) + Σ 1/(x+i)
	return math.Log(x/y) + series + acc
}

// digamma returns ψ(x) for x > 0.
func digamma(x float64) float64 { return math.Log(x) - logMinusDigamma(x) }

// oneMinusXTrigamma returns 1 − x·ψ'(x) for x > 0 (negative for all x > 0).
// For x ≥ 10: −(1/(2x) + Σ B₂ₖ/x²ᵏ) = −(1/(2x) + 1/(6x²) − 1/(30x⁴)
// + 1/(42x⁶) − 1/(30x⁸) + 5/(66x¹⁰) − 691/(2730x¹²) + 7/(6x¹⁴)).
func oneMinusXTrigamma(x float64) float64 {
	if x >= asymptoticFrom {
		return -(1/(2*x) + bernoulliSum(1/(x*x)))
	}
	return 1 - x*trigamma(x)
}

// bernoulliSum returns Σ_{k=1..7} B₂ₖ z^k.
func bernoulliSum(z float64) float64 {
	return z * (1.0/6 - z*(1.0/30-z*(1.0/42-z*(1.0/30-z*(5.0/66-z*(691.0/2730-z*(7.0/6)))))))
}

// trigamma returns ψ'(x) for x > 0. For x ≥ 10:
// ψ'(x) ~ 1/x + 1/(2x²) + Σ B₂ₖ/x²ᵏ⁺¹.
func trigamma(x float64) float64 {
	var acc float64
	for x < asymptoticFrom {
		acc += 1 / (x * x)
		x++
	}
	return acc + 1/x + 1/(2*x*x) + bernoulliSum(1/(x*x))/x
}
