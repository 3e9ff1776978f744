package sim

import (
	"math"
	"math/bits"
	"time"
)

// newRand returns the generator of stream k of a machine with the given
// seed. Every component of a machine draws from its own stream, so adding a
// fault leaves the noise, the drift and the other faults sample-for-sample
// unchanged.
func newRand(seed, k uint64) *source {
	var s source
	x := seed ^ (k * 0x9e3779b97f4a7c15)
	for i := range s.s {
		x += 0x9e3779b97f4a7c15
		s.s[i] = splitmix(x ^ (k << 32))
	}
	return &s
}

// splitmix is the SplitMix64 finaliser (Steele, Lea and Flood 2014).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// source is xoshiro256++ (Blackman and Vigna 2019) with a ziggurat normal
// sampler. It is a concrete type whose fillNorm keeps the generator state
// in registers for a whole control block, where math/rand/v2 calls its
// Source through an interface for every draw: 5.9 µs against 12.1 µs per
// 1024 normal numbers (BenchmarkNormal, docs/sim.md).
type source struct {
	s [4]uint64
}

func (r *source) uint64() uint64 {
	s := &r.s
	x := bits.RotateLeft64(s[0]+s[3], 23) + s[0]
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return x
}

// float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *source) float64() float64 {
	return float64(r.uint64()>>11) * 0x1p-53
}

// Ziggurat tables for the standard normal, 128 strips (Marsaglia and
// Tsang, "The ziggurat method for generating random variables", J. Stat.
// Softw. 5(8), 2000), computed once.
const (
	zigR = 3.442619855899      // start of the tail
	zigV = 9.91256303526217e-3 // area of each strip
	zigM = 2147483648.0        // 2^31
)

var zigK [128]uint32
var zigW, zigF [128]float64

func init() {
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zigK[0] = uint32(dn / q * zigM)
	zigK[1] = 0
	zigW[0] = q / zigM
	zigW[127] = dn / zigM
	zigF[0] = 1
	zigF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = uint32(dn / tn * zigM)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / zigM
	}
}

// norm returns a standard normal number.
func (r *source) norm() float64 {
	u := r.uint64()
	j := int32(u)
	i := (u >> 32) & 127
	if abs32(j) < zigK[i] {
		return float64(j) * zigW[i] // 98.8 % of draws
	}
	return r.normSlow(j, i)
}

// fillNorm fills dst with standard normal numbers, the same sequence as
// len(dst) calls of norm, with the generator's state kept in registers.
func (r *source) fillNorm(dst []float64) {
	s0, s1, s2, s3 := r.s[0], r.s[1], r.s[2], r.s[3]
	for k := range dst {
		u := bits.RotateLeft64(s0+s3, 23) + s0
		t := s1 << 17
		s2 ^= s0
		s3 ^= s1
		s1 ^= s2
		s0 ^= s3
		s2 ^= t
		s3 = bits.RotateLeft64(s3, 45)
		j := int32(u)
		i := (u >> 32) & 127
		if abs32(j) < zigK[i] {
			dst[k] = float64(j) * zigW[i]
			continue
		}
		r.s = [4]uint64{s0, s1, s2, s3}
		dst[k] = r.normSlow(j, i)
		s0, s1, s2, s3 = r.s[0], r.s[1], r.s[2], r.s[3]
	}
	r.s = [4]uint64{s0, s1, s2, s3}
}

func abs32(j int32) uint32 {
	if j < 0 {
		return uint32(-j)
	}
	return uint32(j)
}

// normSlow finishes a draw whose first candidate (j, strip i) fell outside
// the strip's rectangle: the tail, the wedge test, or a fresh draw.
func (r *source) normSlow(j int32, i uint64) float64 {
	for {
		x := float64(j) * zigW[i]
		if abs32(j) < zigK[i] {
			return x
		}
		if i == 0 { // the tail beyond zigR
			for {
				x = -math.Log(1-r.float64()) / zigR
				y := -math.Log(1 - r.float64())
				if y+y >= x*x {
					break
				}
			}
			if j > 0 {
				return zigR + x
			}
			return -zigR - x
		}
		if zigF[i]+r.float64()*(zigF[i-1]-zigF[i]) < math.Exp(-0.5*x*x) {
			return x
		}
		u := r.uint64()
		j = int32(u)
		i = (u >> 32) & 127
	}
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

// add adds amp times the filtered z to acc, the same as amp·next(z[i]) per
// sample, with the filter state in registers.
func (p *pink) add(acc, z []float64, amp float64) {
	b0, b1, b2, b3, b4, b5, b6 := p.b[0], p.b[1], p.b[2], p.b[3], p.b[4], p.b[5], p.b[6]
	z = z[:len(acc)]
	for i, w := range z {
		b0 = 0.99886*b0 + w*0.0555179
		b1 = 0.99332*b1 + w*0.0750759
		b2 = 0.96900*b2 + w*0.1538520
		b3 = 0.86650*b3 + w*0.3104856
		b4 = 0.55000*b4 + w*0.5329522
		b5 = -0.7616*b5 - w*0.0168980
		y := b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362
		b6 = w * 0.115926
		acc[i] += amp * y
	}
	p.b = [7]float64{b0, b1, b2, b3, b4, b5, b6}
}

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
	rng    *source
	active bool
}

func newDrift(d Drift, dt float64, rng *source) drift {
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
	p.phase = 2 * math.Pi * rng.float64()
	p.x = p.reflect(d.Walk * rng.norm()) // stationary start
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
		p.x = p.reflect(p.x*p.decay + p.kick*p.rng.norm())
	}
	p.phase = math.Mod(p.phase+p.omega, 2*math.Pi)
	return v
}
