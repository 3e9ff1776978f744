package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// newRand returns the generator of stream k of a machine with the given
// seed. Every component of a machine draws from its own stream, so adding a
// fault leaves the noise, the drift and the other faults sample-for-sample
// unchanged.
func newRand(seed, k uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(seed^(k*0x9e3779b97f4a7c15)), splitmix(seed+k+1)))
}

// splitmix is the SplitMix64 finaliser (Steele, Lea and Flood 2014).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pink is Paul Kellet's refined pink-noise filter (the "pk3" filter of the
// music-dsp archive, 1999): six one-pole sections and a direct path whose
// sum has a −3 dB/octave slope within ±0.05 dB from about 10 Hz to Nyquist
// at 44.1 kHz (the same pole radii at other rates move the lower corner in
// proportion). It is scaled to unit output variance for unit white input.
type pink struct {
	b [7]float64
}

var pinkNorm = func() float64 {
	// Output variance for unit white input is the energy of the impulse
	// response; 1e5 terms reach the slowest pole's 1e-99 tail.
	var p pink
	var e float64
	for k := 0; k < 100000; k++ {
		w := 0.0
		if k == 0 {
			w = 1
		}
		y := p.next(w)
		e += y * y
	}
	return 1 / math.Sqrt(e)
}()

func (p *pink) next(w float64) float64 {
	b := &p.b
	b[0] = 0.99886*b[0] + w*0.0555179
	b[1] = 0.99332*b[1] + w*0.0750759
	b[2] = 0.96900*b[2] + w*0.1538520
	b[3] = 0.86650*b[3] + w*0.3104856
	b[4] = 0.55000*b[4] + w*0.5329522
	b[5] = -0.7616*b[5] - w*0.0168980
	y := b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w*0.5362
	b[6] = w * 0.115926
	return y
}

// drift is the state of one Drift process, advanced every ctrlEvery samples.
type drift struct {
	d      Drift
	bound  float64
	x      float64 // Ornstein–Uhlenbeck state
	decay  float64 // exp(−dt/τ)
	kick   float64 // Walk·sqrt(1 − decay²)
	omega  float64 // sine angular step per update, rad
	phase  float64 // sine phase, rad
	rng    *rand.Rand
	active bool
}

func newDrift(d Drift, dt float64, rng *rand.Rand) drift {
	p := drift{d: d, bound: d.bound(), rng: rng, active: d.Walk > 0 || d.Sine > 0}
	tau := d.Tau
	if tau == 0 {
		tau = 30 * time.Second
	}
	p.decay = math.Exp(-dt / tau.Seconds())
	p.kick = d.Walk * math.Sqrt(1-p.decay*p.decay)
	if d.Period > 0 {
		p.omega = 2 * math.Pi * dt / d.Period.Seconds()
	}
	p.phase = 2 * math.Pi * rng.Float64()
	p.x = p.reflect(d.Walk * rng.NormFloat64()) // stationary start
	return p
}

// reflect folds x into [−bound, bound] (a random walk between mirrors).
func (p *drift) reflect(x float64) float64 {
	b := p.bound
	if b <= 0 {
		return 0
	}
	for x > b || x < -b {
		if x > b {
			x = 2*b - x
		} else {
			x = -2*b - x
		}
	}
	return x
}

// next returns the current deviation and advances the process one update.
func (p *drift) next() float64 {
	if !p.active {
		return 0
	}
	v := p.x + p.d.Sine*math.Sin(p.phase)
	v = math.Max(-p.bound, math.Min(p.bound, v))
	if p.d.Walk > 0 {
		p.x = p.reflect(p.x*p.decay + p.kick*p.rng.NormFloat64())
	}
	p.phase = math.Mod(p.phase+p.omega, 2*math.Pi)
	return v
}
