package nn

import (
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/nn/internal/vec"
)

// LossFunc is a loss comparing pred with target elementwise. It returns the
// loss and, when grad is non-nil, writes (overwrites) ∂loss/∂pred into grad.
// MSE and L1 are LossFuncs.
type LossFunc func(grad, pred, target []float32) float64

// log2Pi is log(2π).
var log2Pi = math.Log(2 * math.Pi)

func checkLoss(who string, grad, pred, target []float32) {
	if len(target) != len(pred) || (grad != nil && len(grad) != len(pred)) {
		panic(fmt.Sprintf("nn: %s: lengths pred %d, target %d, grad %d", who, len(pred), len(target), len(grad)))
	}
}

// MSE returns the mean squared error (1/n)·Σ(pred−target)² over all n
// values (PyTorch MSELoss, reduction "mean") and, if grad != nil, writes
// grad = 2(pred−target)/n. Accumulates in float64; allocates nothing; panics
// if the lengths differ.
func MSE(grad, pred, target []float32) float64 {
	if len(pred) == 0 {
		return 0
	}
	return MSESum(grad, pred, target, 1/float64(len(pred)))
}

// MSESum returns scale·Σ(pred−target)² and, if grad != nil, writes
// grad = 2·scale·(pred−target). scale = 1/N gives the per-example sum over
// features averaged over N examples.
func MSESum(grad, pred, target []float32, scale float64) float64 {
	checkLoss("MSE", grad, pred, target)
	return scale * vec.SqDiff(grad, pred, target, float32(2*scale))
}

// L1 returns the mean absolute error (1/n)·Σ|pred−target| (PyTorch L1Loss)
// and, if grad != nil, writes grad = sign(pred−target)/n (0 where equal).
func L1(grad, pred, target []float32) float64 {
	if len(pred) == 0 {
		return 0
	}
	return L1Sum(grad, pred, target, 1/float64(len(pred)))
}

// L1Sum returns scale·Σ|pred−target| and, if grad != nil, writes
// grad = scale·sign(pred−target).
func L1Sum(grad, pred, target []float32, scale float64) float64 {
	checkLoss("L1", grad, pred, target)
	target = target[:len(pred)]
	var s float64
	g := float32(scale)
	for i, p := range pred {
		d := p - target[i]
		s += math.Abs(float64(d))
		if grad != nil {
			switch {
			case d > 0:
				grad[i] = g
			case d < 0:
				grad[i] = -g
			default:
				grad[i] = 0
			}
		}
	}
	return scale * s
}

// GaussianNLL returns the mean Gaussian negative log-likelihood of target
// under N(mu, exp(logVar)), with the full constant:
//
//	(1/n)·Σ ½·(log 2π + logVar + (target−mu)²·exp(−logVar))
//
// over the n = len(mu) values. logVar broadcasts: its length must divide
// len(mu), and value i uses logVar[i mod len(logVar)], so a logVar of one
// row's length is a per-feature variance shared by all rows, and a single
// value is one shared variance. Gradients, written when the destination is
// non-nil: gradMu (len(mu)) = (mu−target)·exp(−logVar)/n, and gradLogVar
// (len(logVar), summed over the broadcast) = Σ ½·(1 − (target−mu)²·exp(−logVar))/n.
// Unlike PyTorch's GaussianNLLLoss it takes the log-variance (so no clamp
// is needed) and always includes the constant. Accumulates in float64.
func GaussianNLL(gradMu, gradLogVar, mu, logVar, target []float32) float64 {
	if len(mu) == 0 {
		return 0
	}
	return GaussianNLLSum(gradMu, gradLogVar, mu, logVar, target, 1/float64(len(mu)))
}

// GaussianNLLSum is GaussianNLL with the sum scaled by scale instead of
// divided by n: loss = scale·Σ ½·(log 2π + logVar + (target−mu)²·exp(−logVar)),
// gradients scaled alike. scale = 1/N gives the per-example log-likelihood
// summed over features and averaged over N examples, the ELBO's
// reconstruction term.
func GaussianNLLSum(gradMu, gradLogVar, mu, logVar, target []float32, scale float64) float64 {
	checkLoss("GaussianNLL", gradMu, mu, target)
	v := len(logVar)
	if v == 0 || len(mu)%v != 0 {
		panic(fmt.Sprintf("nn: GaussianNLL: len(logVar) %d does not divide len(mu) %d", v, len(mu)))
	}
	if gradLogVar != nil && len(gradLogVar) != v {
		panic(fmt.Sprintf("nn: GaussianNLL: len(gradLogVar) %d, len(logVar) %d", len(gradLogVar), v))
	}
	target = target[:len(mu)]
	var s float64
	// Column order, so each broadcast log-variance's gradient is summed in
	// float64 before it is stored.
	for j, lvf := range logVar {
		lv := float64(lvf)
		iv := math.Exp(-lv)
		var sq, gl float64
		for o := j; o < len(mu); o += v {
			d := float64(target[o]) - float64(mu[o])
			q := d * d * iv
			sq += q
			gl += 1 - q
			if gradMu != nil {
				gradMu[o] = float32(-d * iv * scale)
			}
		}
		s += float64(len(mu)/v)*(log2Pi+lv) + sq
		if gradLogVar != nil {
			gradLogVar[j] = float32(0.5 * gl * scale)
		}
	}
	return 0.5 * scale * s
}
