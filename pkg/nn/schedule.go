package nn

import "math"

// Schedule gives the learning rate as a function of training progress t,
// measured in epochs: Fit evaluates it before every optimiser step at
// t = epoch + batch/batches (t = 0 at the first step, t = 1 at the first
// step of the second epoch, ...), so schedules defined per epoch change at
// epoch boundaries and smooth schedules move every step.
type Schedule interface {
	LR(t float64) float64
}

// ScheduleFunc adapts a function to a Schedule.
type ScheduleFunc func(t float64) float64

// LR returns f(t).
func (f ScheduleFunc) LR(t float64) float64 { return f(t) }

// ConstantLR returns a Schedule that is always lr.
func ConstantLR(lr float64) Schedule {
	return ScheduleFunc(func(float64) float64 { return lr })
}

// StepLR returns lr·gamma^⌊t/every⌋: the rate is multiplied by gamma every
// `every` epochs (PyTorch StepLR(step_size=every, gamma) stepped per epoch).
// It panics if every < 1.
func StepLR(lr float64, every int, gamma float64) Schedule {
	if every < 1 {
		panic("nn: StepLR: every must be >= 1")
	}
	return ScheduleFunc(func(t float64) float64 {
		return lr * math.Pow(gamma, math.Floor(t/float64(every)))
	})
}

// CosineLR returns a cosine annealing from lr to minLR over `epochs`
// epochs, after an optional linear warm-up of `warmup` epochs from 0 to lr:
//
//	t < warmup:  lr·t/warmup
//	otherwise:   minLR + (lr−minLR)·(1 + cos(π·min(1, (t−warmup)/(epochs−warmup))))/2
//
// (SGDR/PyTorch CosineAnnealingLR without restarts, evaluated per step; the
// warm-up starts at 0 like Hugging Face's get_cosine_schedule_with_warmup).
// It panics unless 0 <= warmup < epochs.
func CosineLR(lr, minLR, epochs, warmup float64) Schedule {
	if !(warmup >= 0 && warmup < epochs) {
		panic("nn: CosineLR: need 0 <= warmup < epochs")
	}
	return ScheduleFunc(func(t float64) float64 {
		if t < warmup {
			return lr * t / warmup
		}
		p := min(1, (t-warmup)/(epochs-warmup))
		return minLR + (lr-minLR)*(1+math.Cos(math.Pi*p))/2
	})
}
