package sim

import (
	"math"
	"time"
)

// ctrlEvery is the control period in samples: speed, load and fault
// amplitudes are recomputed every ctrlEvery samples, counted from the
// machine's first sample, so the output does not depend on how Read is
// called.
const ctrlEvery = 32

// looseOrders is the number of half orders of the looseness series
// (0.5×, 1×, …, 10×).
const looseOrders = 20

// maxPow is the largest power of the half-shaft phasor any component uses.
const maxPow = 2 * maxHarmonics

// random stream numbers of a machine's components (see newRand).
const (
	streamPhase = iota + 1
	streamWhite
	streamPink
	streamResonance
	streamSpeed
	streamLoad
	streamFault = 100 // + fault index
)

// Machine is one simulated machine: a deterministic, endless (or
// Spec.Duration long) stream of float32 samples. Build it with New, pull
// samples with Read. A Machine is not safe for concurrent use.
type Machine struct {
	spec Spec
	seed uint64
	rate float64
	n    int64 // samples produced
	end  int64 // total samples, or -1 when endless

	speed, load drift
	shaftHz     float64 // shaft speed of the current control block, Hz
	loadF       float64 // load factor of the current control block
	inc         float64 // shaft cycles per sample
	cyc         float64 // shaft angle in cycles, mod 2 (so the half orders stay continuous)

	// shaft family: Σ_j Re(c_j·h^j), h = exp(iπ·cyc) the half-shaft phasor.
	nPow       int                 // highest power j in use (even)
	half       bool                // odd powers (half orders) in use: a looseness fault
	eR, eI     [maxPow / 2]float64 // c_j of this block for j = 2, 4, … (index j/2−1)
	oR, oI     [maxPow / 2]float64 // c_j of this block for j = 1, 3, … (index (j−1)/2)
	hr, hi     float64             // h
	rr, ri     float64             // h's rotation per sample
	baseR      [maxPow + 1]float64
	baseI      [maxPow + 1]float64
	cR, cI     [maxPow + 1]float64 // coefficients of this control block
	meshOn     bool
	mr, mi     float64 // mesh phasor exp(i2π·Teeth·cyc)
	mrr, mri   float64 // its rotation per sample
	m1R, m1I   float64 // base coefficients: fundamental, upper and lower sideband, second harmonic
	muR, muI   float64
	mlR, mlI   float64
	m2R, m2I   float64
	k1R, k1I   float64 // coefficients of this control block (× load)
	kuR, kuI   float64
	klR, klI   float64
	k2R, k2I   float64
	white      float64
	pinkAmp    float64
	resNoise   float64
	rngWhite   *source
	rngPink    *source
	rngRes     *source
	pk         pink
	res        []resonator
	pending    float64 // part of an impulse that falls on the next sample
	faults     []faultState
	bearingIdx []int // indices of faults that make impulses or wear
}

type resonator struct {
	b0, a1, a2 float64
	y1, y2     float64
	gain       float64
}

type faultState struct {
	f     Fault
	rng   *source
	level float64 // amplitude of this control block (× load for bearing defects)
	slip  float64

	// bearing impulses
	order  float64 // defect frequency per unit shaft speed (impulse rate)
	cageO  float64 // FTF per unit shaft speed
	inc    float64 // defect cycles per sample
	phase  float64 // defect cycles since the last impulse
	jit    float64 // interval multiplier until the next impulse
	cage   float64 // cage angle in cycles (Ball)
	angle  float64 // load-zone offset of the defect, cycles (InnerRace)
	second bool    // next ball impact is on the inner race

	// shaft-family faults: complex unit coefficients per half order
	uR, uI [maxPow + 1]float64
}

// New returns a machine that simulates spec from its first sample, its
// randomness (phases, noise, drift, jitter) drawn from seed: the same spec
// and seed give the same samples, bit for bit, on the same GOARCH. New copies
// spec, so changing it afterwards has no effect. It returns an error
// wrapping ErrSpec when spec.Validate fails. New allocates; Read does not.
func New(spec Spec, seed uint64) (*Machine, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec = spec.clone()
	m := &Machine{spec: spec, seed: seed, rate: spec.Rate, end: -1}
	if spec.Duration > 0 {
		m.end = int64(math.Round(spec.Duration.Seconds() * spec.Rate))
	}
	dt := ctrlEvery / spec.Rate
	m.speed = newDrift(spec.SpeedDrift, dt, newRand(seed, streamSpeed))
	m.load = newDrift(spec.LoadDrift, dt, newRand(seed, streamLoad))

	ph := newRand(seed, streamPhase)
	for k, a := range spec.Harmonics {
		phi := 2 * math.Pi * ph.float64()
		j := 2 * (k + 1)
		m.baseR[j], m.baseI[j] = a*math.Cos(phi), a*math.Sin(phi)
		if a > 0 {
			m.nPow = max(m.nPow, j)
		}
	}
	if me := spec.Mesh; me.Teeth > 0 {
		m.meshOn = true
		p1, p2, ps := 2*math.Pi*ph.float64(), 2*math.Pi*ph.float64(), 2*math.Pi*ph.float64()
		m.m1R, m.m1I = me.Amp*math.Cos(p1), me.Amp*math.Sin(p1)
		sb := me.Amp * me.Sideband / 2
		m.muR, m.muI = sb*math.Cos(p1+ps), sb*math.Sin(p1+ps)
		m.mlR, m.mlI = sb*math.Cos(p1-ps), sb*math.Sin(p1-ps)
		m.m2R, m.m2I = me.Amp2*math.Cos(p2), me.Amp2*math.Sin(p2)
		m.nPow = max(m.nPow, 2) // sidebands need h²
	}

	m.white, m.pinkAmp, m.resNoise = spec.White, spec.Pink*pinkNorm, spec.ResonanceNoise
	m.rngWhite = newRand(seed, streamWhite)
	m.rngPink = newRand(seed, streamPink)
	m.rngRes = newRand(seed, streamResonance)
	// Let the slowest pink pole (time constant 877 samples) settle so the
	// first samples already have their low-frequency content.
	if m.pinkAmp > 0 {
		for range 8192 {
			m.pk.next(m.rngPink.norm())
		}
	}

	for _, r := range spec.Resonances {
		w := 2 * math.Pi * r.Freq / spec.Rate
		rad := math.Exp(-math.Pi * r.Freq / (r.Q * spec.Rate))
		m.res = append(m.res, resonator{b0: math.Sin(w), a1: 2 * rad * math.Cos(w), a2: rad * rad, gain: r.Gain})
	}

	ratios := spec.bearing().ratios()
	for i, f := range spec.Faults {
		fs := faultState{f: f, rng: newRand(seed, streamFault+uint64(i)), slip: f.slip(), jit: 1}
		switch f.Kind {
		case OuterRace:
			fs.order = ratios.BPFO
		case InnerRace:
			fs.order = ratios.BPFI
			fs.angle = fs.rng.float64()
		case Ball:
			fs.order = 2 * ratios.BSF
			fs.cageO = ratios.FTF
			fs.cage = fs.rng.float64()
		case Imbalance:
			// The added mass lies within ±45° of the residual imbalance,
			// so the 1× line grows (by Severity·cos 45° at least).
			phi := math.Atan2(m.baseI[2], m.baseR[2]) + (fs.rng.float64()-0.5)*math.Pi/2
			fs.uR[2], fs.uI[2] = math.Cos(phi), math.Sin(phi)
			m.nPow = max(m.nPow, 2)
		case Looseness:
			for j := 1; j <= looseOrders; j++ {
				o := float64(j) / 2
				a := math.Pow(o, -0.7)
				if j%2 == 1 {
					a /= 2
				}
				phi := 2 * math.Pi * fs.rng.float64()
				fs.uR[j], fs.uI[j] = a*math.Cos(phi), a*math.Sin(phi)
			}
			m.nPow = max(m.nPow, looseOrders)
			m.half = true
		}
		if f.Kind.Bearing() {
			fs.phase = fs.rng.float64() // where in its period the defect starts
			m.bearingIdx = append(m.bearingIdx, i)
		}
		m.faults = append(m.faults, fs)
	}
	return m, nil
}

// SampleRate returns the sample rate in Hz.
func (m *Machine) SampleRate() float64 { return m.rate }

// Spec returns a copy of the machine's spec, faults included: the truth of
// what it simulates. It allocates the copy's slices.
func (m *Machine) Spec() Spec { return m.spec.clone() }

// Seed returns the seed the machine was built with.
func (m *Machine) Seed() uint64 { return m.seed }

// Samples returns the number of samples produced so far; the next sample
// Read returns is sample number Samples() (from 0).
func (m *Machine) Samples() int64 { return m.n }

// Elapsed returns the duration of signal produced so far, Samples()/rate.
func (m *Machine) Elapsed() time.Duration {
	return time.Duration(float64(m.n) / m.rate * 1e9)
}

// Done reports whether a machine with a Duration has produced all of it.
func (m *Machine) Done() bool { return m.end >= 0 && m.n >= m.end }

// ShaftHz returns the shaft speed (Hz) of the most recent control block:
// nominal RPM/60 times 1 plus the speed drift. Before the first Read it is 0.
func (m *Machine) ShaftHz() float64 { return m.shaftHz }

// Load returns the load factor (1 plus the load drift) of the most recent
// control block. Before the first Read it is 0.
func (m *Machine) Load() float64 { return m.loadF }

// ActiveFaults appends to dst the faults whose amplitude is above zero at
// time t since the first sample, and returns the extended slice. It
// allocates only when dst lacks capacity.
func (m *Machine) ActiveFaults(dst []Fault, t time.Duration) []Fault {
	for i := range m.spec.Faults {
		if m.spec.Faults[i].Level(t) > 0 {
			dst = append(dst, m.spec.Faults[i])
		}
	}
	return dst
}

// Read fills dst with the next samples and returns how many it wrote:
// len(dst), or fewer when the spec's Duration ends inside dst, then 0. The
// samples are the same whatever the lengths of the successive dst (a stream
// read 1 sample at a time equals the stream read in one call). Read does
// not allocate.
func (m *Machine) Read(dst []float32) int {
	if m.end >= 0 {
		if left := m.end - m.n; int64(len(dst)) > left {
			dst = dst[:max(left, 0)]
		}
	}
	for i := 0; i < len(dst); {
		if m.n%ctrlEvery == 0 {
			m.control()
		}
		// Run to the end of dst or of the control block, whichever first.
		k := min(len(dst)-i, int(ctrlEvery-m.n%ctrlEvery))
		m.block(dst[i : i+k])
		i += k
		m.n += int64(k)
	}
	return len(dst)
}

// control recomputes the slowly varying quantities at sample m.n.
func (m *Machine) control() {
	t := time.Duration(float64(m.n) / m.rate * 1e9)
	m.shaftHz = m.spec.RPM / 60 * (1 + m.speed.next())
	m.loadF = 1 + m.load.next()
	m.inc = m.shaftHz / m.rate

	// Resynchronise the phasors with the phase accumulators, so rounding
	// in the per-sample rotation never builds up beyond one block.
	m.hr, m.hi = math.Cos(math.Pi*m.cyc), math.Sin(math.Pi*m.cyc)
	m.rr, m.ri = math.Cos(math.Pi*m.inc), math.Sin(math.Pi*m.inc)
	if m.meshOn {
		teeth := float64(m.spec.Mesh.Teeth)
		c := teeth * m.cyc
		c -= math.Floor(c)
		m.mr, m.mi = math.Cos(2*math.Pi*c), math.Sin(2*math.Pi*c)
		m.mrr, m.mri = math.Cos(2*math.Pi*teeth*m.inc), math.Sin(2*math.Pi*teeth*m.inc)
		l := m.loadF
		m.k1R, m.k1I = l*m.m1R, l*m.m1I
		m.kuR, m.kuI = l*m.muR, l*m.muI
		m.klR, m.klI = l*m.mlR, l*m.mlI
		m.k2R, m.k2I = l*m.m2R, l*m.m2I
	}

	m.cR, m.cI = m.baseR, m.baseI
	for i := range m.faults {
		fs := &m.faults[i]
		lv := fs.f.Level(t)
		switch fs.f.Kind {
		case Imbalance, Looseness:
			fs.level = lv
			if lv > 0 {
				for j := 1; j <= m.nPow; j++ {
					m.cR[j] += lv * fs.uR[j]
					m.cI[j] += lv * fs.uI[j]
				}
			}
		default:
			fs.level = lv * m.loadF
			fs.inc = fs.order * m.inc
		}
	}
	m.splitCoefficients()
}

// block produces len(dst) ≤ ctrlEvery samples, all inside one control
// block. It runs one pass per component over the block, each a recurrence
// on its own state, so the samples do not depend on how a block is split
// between calls.
func (m *Machine) block(dst []float32) {
	n := len(dst)
	var acc [ctrlEvery]float64   // the signal
	var ang [ctrlEvery]float64   // shaft angle (cycles, mod 2) at each sample
	var s1 [2][ctrlEvery]float64 // 1× phasor exp(i2π·angle), for the mesh sidebands
	m.shaft(acc[:n], ang[:n], s1[0][:n], s1[1][:n])
	if m.meshOn {
		m.mesh(acc[:n], s1[0][:n], s1[1][:n])
	}
	var z [ctrlEvery]float64 // standard normal draws
	if w := m.white; w > 0 {
		m.rngWhite.fillNorm(z[:n])
		for i := range n {
			acc[i] += w * z[i]
		}
	}
	if a := m.pinkAmp; a > 0 {
		m.rngPink.fillNorm(z[:n])
		m.pk.add(acc[:n], z[:n], a)
	}
	if len(m.res) > 0 {
		// x is the force on the resonances; x[n] collects the parts of
		// impulses that fall on the first sample of the next call.
		var x [ctrlEvery + 1]float64
		x[0] = m.pending
		if a := m.resNoise * m.loadF; a > 0 {
			m.rngRes.fillNorm(z[:n])
			for i := range n {
				x[i] += a * z[i]
			}
		}
		for _, fi := range m.bearingIdx {
			m.excite(&m.faults[fi], x[:n+1], ang[:n])
		}
		m.pending = x[n]
		for r := range m.res {
			rs := &m.res[r]
			b0, a1, a2, g := rs.b0, rs.a1, rs.a2, rs.gain
			y1, y2 := rs.y1, rs.y2
			for i := range n {
				y := b0*x[i] + a1*y1 - a2*y2
				y2, y1 = y1, y
				acc[i] += g * y
			}
			rs.y1, rs.y2 = y1, y2
		}
	}
	for i := range dst {
		dst[i] = float32(acc[i])
	}
}

// splitCoefficients copies the block's coefficients c_j into the even
// and odd arrays the shaft pass reads.
func (m *Machine) splitCoefficients() {
	for k := 0; 2*k+2 <= m.nPow; k++ {
		m.eR[k], m.eI[k] = m.cR[2*k+2], m.cI[2*k+2]
		m.oR[k], m.oI[k] = m.cR[2*k+1], m.cI[2*k+1]
	}
}

// shaft adds the shaft family Σ_j Re(c_j·h^j) to acc, h = exp(iπ·angle)
// the half-shaft phasor, records the angle of every sample and the 1×
// phasor b = h², and advances the shaft. Even powers are the chain b^k and
// odd ones h·b^k, so a machine with half orders computes its integer orders
// with the very same operations as one without.
func (m *Machine) shaft(acc, ang, s1r, s1i []float64) {
	hr, hi, rr, ri := m.hr, m.hi, m.rr, m.ri
	cyc, inc := m.cyc, m.inc
	nE := m.nPow / 2
	eR, eI := m.eR[:nE], m.eI[:nE]
	oR, oI := m.oR[:nE], m.oI[:nE]
	for i := range acc {
		ang[i] = cyc
		br, bi := hr*hr-hi*hi, 2*hr*hi
		s1r[i], s1i[i] = br, bi
		var v float64
		pr, pi := br, bi
		if m.half {
			qr, qi := hr, hi
			for k := range eR {
				v += oR[k]*qr - oI[k]*qi
				v += eR[k]*pr - eI[k]*pi
				qr, qi = qr*br-qi*bi, qr*bi+qi*br
				pr, pi = pr*br-pi*bi, pr*bi+pi*br
			}
		} else {
			for k := range eR {
				v += eR[k]*pr - eI[k]*pi
				pr, pi = pr*br-pi*bi, pr*bi+pi*br
			}
		}
		acc[i] += v
		hr, hi = hr*rr-hi*ri, hr*ri+hi*rr
		cyc += inc
		if cyc >= 2 {
			cyc -= 2
		}
	}
	m.hr, m.hi, m.cyc = hr, hi, cyc
}

// mesh adds the mesh line, its shaft sidebands and its second harmonic.
func (m *Machine) mesh(acc, s1r, s1i []float64) {
	mr, mi, rr, ri := m.mr, m.mi, m.mrr, m.mri
	k1R, k1I, kuR, kuI := m.k1R, m.k1I, m.kuR, m.kuI
	klR, klI, k2R, k2I := m.klR, m.klI, m.k2R, m.k2I
	for i := range acc {
		sr, si := s1r[i], s1i[i]
		ur, ui := mr*sr-mi*si, mr*si+mi*sr // mesh·shaft: upper sideband
		lr, li := mr*sr+mi*si, mi*sr-mr*si // mesh·conj(shaft): lower sideband
		m2r, m2i := mr*mr-mi*mi, 2*mr*mi
		acc[i] += k1R*mr - k1I*mi + kuR*ur - kuI*ui + klR*lr - klI*li + k2R*m2r - k2I*m2i
		mr, mi = mr*rr-mi*ri, mr*ri+mi*rr
	}
	m.mr, m.mi = mr, mi
}

// excite adds a bearing fault's force on the resonances over one block to
// x (len(ang)+1 long: the share of an impulse that falls on the sample
// after the block goes to the last element; the impulse time is linearly
// interpolated, so the train is not quantised to the sample grid). ang is
// the shaft angle at each sample.
func (m *Machine) excite(fs *faultState, x, ang []float64) {
	if fs.f.Kind == Wear {
		for i := range ang {
			x[i] += fs.level * fs.rng.norm()
		}
		return
	}
	d := fs.inc * fs.jit
	cageInc := fs.cageO * m.inc
	for i := range ang {
		if fs.f.Kind == Ball {
			fs.cage += cageInc
			if fs.cage >= 1 {
				fs.cage -= 1
			}
		}
		p := fs.phase + d
		if p >= 1 {
			frac := (1 - fs.phase) / d
			a := fs.level * (1 + 0.1*fs.rng.norm()) // impact strength varies by ~10 %
			switch fs.f.Kind {
			case InnerRace:
				a *= loadZone(ang[i] + fs.angle) // the defect turns with the shaft
			case Ball:
				a *= loadZone(fs.cage)
				if fs.second {
					a *= 0.7
				}
				fs.second = !fs.second
			}
			x[i] += a * (1 - frac)
			x[i+1] += a * frac
			p -= 1
			fs.jit = math.Max(0.5, math.Min(1.5, 1+fs.slip*fs.rng.norm()))
			d = fs.inc * fs.jit
		}
		fs.phase = p
	}
}

// loadZone returns the relative strength of an impact at angle c (cycles)
// from the centre of the load zone: the Stribeck distribution of a ball
// bearing with half its circumference loaded, q = cos(ψ)^1.5 for |ψ| < 90°,
// plus a 10 % floor for the unloaded half (impacts there are weak, not
// absent).
func loadZone(c float64) float64 {
	cs := math.Cos(2 * math.Pi * c)
	if cs <= 0 {
		return 0.1
	}
	return 0.1 + 0.9*cs*math.Sqrt(cs)
}
