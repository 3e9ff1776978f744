package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrSpec is wrapped by every error Spec.Validate and New return.
var ErrSpec = errors.New("sim: invalid spec")

// Sensor says what a machine's samples measure.
type Sensor int

const (
	// Acoustic is a microphone: samples are sound pressure relative to the
	// full scale of a 16-bit recording (±1), like the DCASE WAV files.
	Acoustic Sensor = iota
	// Vibration is an accelerometer on a bearing housing: samples are
	// acceleration in g (9.81 m/s²), like the CWRU and FEMTO recordings.
	Vibration
)

// String returns "acoustic" or "vibration".
func (s Sensor) String() string {
	switch s {
	case Acoustic:
		return "acoustic"
	case Vibration:
		return "vibration"
	}
	return fmt.Sprintf("Sensor(%d)", int(s))
}

// Unit returns the unit of the samples: "FS" (full scale) or "g".
func (s Sensor) Unit() string {
	if s == Vibration {
		return "g"
	}
	return "FS"
}

// Mesh is a tonal component at an integer multiple of the shaft speed: the
// mesh of a gear with Teeth teeth, or equally the blade pass of a fan with
// Teeth blades or the vane pass of a pump impeller with Teeth vanes. With
// shaft phase θ(t) (radians) it adds
//
//	load(t)·(Amp·(1 + Sideband·cos(θ+φs))·cos(Teeth·θ+φ1) + Amp2·cos(2·Teeth·θ+φ2))
//
// that is a line at fm = Teeth·fr, sidebands of Amp·Sideband/2 at fm ± fr
// (the shaft-rate modulation of a real mesh) and a line at 2·fm. The phases
// φ are drawn from the machine's seed. Teeth == 0 disables the mesh.
type Mesh struct {
	Teeth    int
	Amp      float64 // amplitude of the fundamental mesh line, sample units
	Amp2     float64 // amplitude of the second mesh harmonic, sample units
	Sideband float64 // amplitude-modulation depth at shaft speed, 0..1
}

// Resonance is a structural resonance: a damped second-order system that
// rings at Freq with quality factor Q when an impulse strikes it. It is the
// two-pole resonator
//
//	y[k] = sin(ω)·x[k] + 2r·cos(ω)·y[k−1] − r²·y[k−2],  ω = 2π·Freq/rate, r = exp(−π·Freq/(Q·rate))
//
// whose impulse response r^k·sin(ω(k+1)) peaks near 1, so an impulse of
// amplitude a rings with a peak of about a·Gain and decays with time
// constant Q/(π·Freq). Its −3 dB bandwidth is Freq/Q.
type Resonance struct {
	Freq float64 // centre frequency, Hz; 0 < Freq < rate/2
	Q    float64 // quality factor, > 0.5
	Gain float64 // scale of this resonance's response to every excitation
}

// Drift is a slow, bounded fractional deviation d(t) of a quantity (shaft
// speed or load) from its nominal value: the quantity is nominal·(1 + d(t)).
//
//	d(t) = clamp(Sine·sin(2π t/Period + φ) + w(t), −Bound, Bound)
//
// where w is an Ornstein–Uhlenbeck random walk with stationary standard
// deviation Walk and correlation time Tau, started from its stationary
// distribution and reflected at ±Bound, so d is stationary: the first
// minutes of a machine already show the whole range of its drift, which is
// what a detector trained on them needs. The zero Drift is no drift.
// Bound 0 means Sine + 3·Walk. The drift is updated every 32 samples.
type Drift struct {
	Walk   float64       // stationary standard deviation of the random walk, fraction of nominal
	Tau    time.Duration // correlation time of the random walk; 0 means 30 s
	Sine   float64       // amplitude of the slow sinusoid, fraction of nominal
	Period time.Duration // period of the sinusoid; required when Sine > 0
	Bound  float64       // hard bound on |d|, fraction of nominal, < 1
}

func (d Drift) bound() float64 {
	if d.Bound > 0 {
		return d.Bound
	}
	return d.Sine + 3*d.Walk
}

// Spec describes one machine. The zero values of the optional fields turn the
// corresponding component off. Preset returns a complete Spec per Kind.
type Spec struct {
	Kind   Kind    // the preset family this spec came from; informative only
	Sensor Sensor  // what the samples measure (and their unit)
	Rate   float64 // sample rate, Hz (16000 for acoustic presets, 25600 for vibration)
	RPM    float64 // nominal shaft speed, revolutions per minute

	// Harmonics[k] is the amplitude (sample units) of the (k+1)× shaft
	// harmonic: residual imbalance, misalignment and the like of a healthy
	// machine. Each gets a random phase. At most 16.
	Harmonics []float64

	Mesh Mesh

	White float64 // RMS of white Gaussian noise, sample units
	Pink  float64 // RMS of pink (1/f) noise, sample units

	// Resonances are the structural resonances that bearing impulses (and
	// ResonanceNoise) excite. At most 8.
	Resonances []Resonance
	// ResonanceNoise is the RMS of the white force that keeps the
	// resonances ringing in a healthy machine (a broad hump in the
	// spectrum), before each resonance's Gain.
	ResonanceNoise float64

	SpeedDrift Drift // drift of the shaft speed
	LoadDrift  Drift // drift of the load: scales the mesh, the impulses and the resonance noise

	Bearing BearingGeometry // the monitored bearing; zero means SKF6205
	Faults  []Fault         // injected faults with their schedule

	// Duration ends the signal: Read returns 0 once Duration of signal has
	// been produced. Zero means the machine never ends.
	Duration time.Duration
}

const (
	maxHarmonics  = 16
	maxResonances = 8
)

// Validate reports whether s can be simulated without aliasing or nonsense;
// the error wraps ErrSpec and names the first bad field.
func (s *Spec) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrSpec}, a...)...)
	}
	if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
		return bad("Rate %v must be positive", s.Rate)
	}
	if !(s.RPM > 0) || math.IsInf(s.RPM, 0) {
		return bad("RPM %v must be positive", s.RPM)
	}
	if s.Sensor != Acoustic && s.Sensor != Vibration {
		return bad("unknown sensor %v", s.Sensor)
	}
	nyq := s.Rate / 2
	for _, nd := range [...]struct {
		name string
		d    Drift
	}{{"SpeedDrift", s.SpeedDrift}, {"LoadDrift", s.LoadDrift}} {
		name, d := nd.name, nd.d
		if d.Walk < 0 || d.Sine < 0 || d.Bound < 0 || d.Tau < 0 || d.Period < 0 {
			return bad("%s has a negative field: %+v", name, d)
		}
		if d.bound() >= 1 {
			return bad("%s can reach %v of nominal; it must stay below 1", name, d.bound())
		}
		if d.Sine > 0 && d.Period == 0 {
			return bad("%s.Sine needs a Period", name)
		}
	}
	fmax := s.RPM / 60 * (1 + s.SpeedDrift.bound())
	if len(s.Harmonics) > maxHarmonics {
		return bad("%d harmonics; at most %d", len(s.Harmonics), maxHarmonics)
	}
	for k, a := range s.Harmonics {
		if a < 0 || math.IsNaN(a) {
			return bad("Harmonics[%d] = %v must be >= 0", k, a)
		}
	}
	if f := float64(len(s.Harmonics)) * fmax; f >= nyq {
		return bad("harmonic %d reaches %.0f Hz, above Nyquist %.0f Hz", len(s.Harmonics), f, nyq)
	}
	if m := s.Mesh; m.Teeth != 0 {
		if m.Teeth < 0 || m.Amp < 0 || m.Amp2 < 0 || m.Sideband < 0 || m.Sideband > 1 {
			return bad("Mesh %+v: Teeth, Amp, Amp2 must be >= 0 and Sideband in [0, 1]", m)
		}
		if f := float64(2*m.Teeth) * fmax; m.Amp2 > 0 && f >= nyq {
			return bad("second mesh harmonic reaches %.0f Hz, above Nyquist %.0f Hz", f, nyq)
		}
		if f := float64(m.Teeth+1) * fmax; f >= nyq {
			return bad("mesh sideband reaches %.0f Hz, above Nyquist %.0f Hz", f, nyq)
		}
	}
	if s.White < 0 || s.Pink < 0 || s.ResonanceNoise < 0 {
		return bad("noise levels must be >= 0")
	}
	if len(s.Resonances) > maxResonances {
		return bad("%d resonances; at most %d", len(s.Resonances), maxResonances)
	}
	for i, r := range s.Resonances {
		if !(r.Freq > 0 && r.Freq < nyq) || !(r.Q > 0.5) || r.Gain < 0 {
			return bad("Resonances[%d] = %+v: need 0 < Freq < %.0f, Q > 0.5, Gain >= 0", i, r, nyq)
		}
	}
	g := s.bearing()
	if g.Balls < 1 || !(g.BallDiameter > 0) || !(g.PitchDiameter > g.BallDiameter) || math.Abs(g.ContactAngle) >= math.Pi/2 {
		return bad("Bearing %+v: need Balls >= 1, 0 < BallDiameter < PitchDiameter, |ContactAngle| < π/2", g)
	}
	if s.Duration < 0 {
		return bad("Duration %v must be >= 0", s.Duration)
	}
	for i, f := range s.Faults {
		if err := f.validate(); err != nil {
			return bad("Faults[%d]: %v", i, err)
		}
		if f.Kind.Bearing() && len(s.Resonances) == 0 {
			return bad("Faults[%d]: a %v fault rings the resonances, and there are none", i, f.Kind)
		}
		if f.Kind == Looseness && looseOrders*fmax/2 >= nyq {
			return bad("Faults[%d]: looseness harmonics reach %.0f Hz, above Nyquist", i, looseOrders*fmax/2)
		}
	}
	return nil
}

func (s *Spec) bearing() BearingGeometry {
	if s.Bearing == (BearingGeometry{}) {
		return skf6205()
	}
	return s.Bearing
}

// DefectFreqs returns the bearing defect frequencies at the nominal speed.
func (s *Spec) DefectFreqs() DefectFreqs {
	return BearingFreqs(s.RPM/60, s.bearing())
}

// clone returns a deep copy of s, so a Machine never shares slices with its caller.
func (s Spec) clone() Spec {
	s.Harmonics = append([]float64(nil), s.Harmonics...)
	s.Resonances = append([]Resonance(nil), s.Resonances...)
	s.Faults = append([]Fault(nil), s.Faults...)
	return s
}
