package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// FaultKind is the kind of an injected fault.
type FaultKind int

const (
	// OuterRace is a spall on the stationary outer race, in the load zone:
	// impulses at BPFO of nearly constant strength, each ringing the
	// structural resonances. Envelope spectrum: BPFO and its harmonics.
	OuterRace FaultKind = iota + 1
	// InnerRace is a spall on the inner race, which turns with the shaft and
	// so passes through the load zone once per revolution: impulses at BPFI
	// whose strength follows the load distribution q(ψ) = cos(ψ)^1.5
	// (Stribeck, ball bearing, half the bearing loaded) of the shaft angle ψ.
	// Envelope spectrum: BPFI with sidebands at ±1× shaft speed.
	InnerRace
	// Ball is a spall on one rolling element: it strikes the inner and the
	// outer race once per spin, impulses at 2·BSF alternating strong (outer
	// race) and weaker (0.7, inner race), modulated by the load zone at the
	// cage frequency FTF since the ball travels with the cage. Envelope
	// spectrum: BSF, 2·BSF with FTF sidebands.
	Ball
	// Imbalance adds a 1× shaft component of amplitude Severity (sample
	// units) to the machine's own 1× line, at a phase within ±45° of it, so
	// the 1× amplitude grows by between 0.71·Severity and Severity: mass
	// imbalance growing, e.g. by fouling of a fan or a lost balance weight.
	Imbalance
	// Looseness adds harmonics of the shaft speed up to 10× and the half
	// orders 0.5×, 1.5×, …, 9.5× (the sub-harmonics of a loose foot or a
	// cracked mount): order o has amplitude Severity·o^−0.7, halved for the
	// half orders, each with a random phase.
	Looseness
	// Wear is distributed surface roughness late in a bearing's life: a
	// white random force of RMS Severity ringing the structural resonances
	// (a growing broadband hump), with no periodic signature.
	Wear
)

var faultNames = [...]string{OuterRace: "outer-race", InnerRace: "inner-race", Ball: "ball", Imbalance: "imbalance", Looseness: "looseness", Wear: "wear"}

// String returns the kind's name: "outer-race", "inner-race", "ball",
// "imbalance", "looseness" or "wear".
func (k FaultKind) String() string {
	if k >= OuterRace && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// ParseFaultKind returns the kind whose String is name.
func ParseFaultKind(name string) (FaultKind, error) {
	for k := OuterRace; int(k) < len(faultNames); k++ {
		if faultNames[k] == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("sim: unknown fault kind %q", name)
}

// Bearing reports whether k is a defect of the bearing's surfaces
// (outer race, inner race, ball or wear), which shows in the resonance band.
func (k FaultKind) Bearing() bool {
	return k == OuterRace || k == InnerRace || k == Ball || k == Wear
}

// Fault is one injected fault and its schedule. Its amplitude at time t
// (since the machine's first sample) is
//
//	a(t) = 0                                          t < Start
//	a(t) = min(Limit, Severity·ramp(t)·exp((t−Start)/Growth))  t ≥ Start
//
// where ramp rises linearly from 0 to 1 over Ramp (1 at once when Ramp is 0)
// and the exponential is 1 when Growth is 0. With Growth > 0 the fault is a
// degradation that grows toward failure as in run-to-failure tests (the
// FEMTO bearings' vibration grows roughly exponentially in their last
// phase). The amplitude is recomputed every 32 samples, so a fault shows at
// most 32 samples after Start and never before.
//
// Severity's unit depends on Kind: for the bearing defects it is the peak
// amplitude of one impulse's ringing (sample units, times the resonance's
// Gain and the load); for Imbalance the added 1× amplitude; for Looseness
// the 1× amplitude of the looseness series; for Wear the RMS of the random
// force on the resonances.
type Fault struct {
	Kind     FaultKind
	Start    time.Duration // onset, since the machine's first sample
	Ramp     time.Duration // linear rise from 0 to Severity; 0 = a step
	Growth   time.Duration // e-folding time of exponential growth; 0 = none
	Severity float64       // amplitude, see above; > 0
	Limit    float64       // cap on the amplitude with Growth; 0 means 100·Severity

	// Slip is the relative standard deviation of the interval between two
	// bearing impulses (rolling elements slip, so real defect lines are
	// smeared by 1–2 %). 0 means 0.01; a negative value means no slip.
	Slip float64

	// Detectable is the expected visibility: true when a detector of
	// anomalies in spectral patches (log-mel bands of short frames) trained
	// on the healthy machine should flag the fault once it has grown, false
	// when the fault is too small to stand out (a tiny imbalance under the
	// 1× line). It is a label the fleet presets set from a measured band
	// excess (docs/sim.md); New ignores it.
	Detectable bool
}

func (f *Fault) validate() error {
	switch {
	case f.Kind < OuterRace || int(f.Kind) >= len(faultNames):
		return fmt.Errorf("unknown kind %v", f.Kind)
	case !(f.Severity > 0) || math.IsInf(f.Severity, 0):
		return fmt.Errorf("Severity %v must be positive", f.Severity)
	case f.Start < 0 || f.Ramp < 0 || f.Growth < 0:
		return errors.New("Start, Ramp and Growth must be >= 0")
	case f.Limit < 0:
		return fmt.Errorf("Limit %v must be >= 0", f.Limit)
	case f.Slip > 0.2:
		return fmt.Errorf("Slip %v above 0.2", f.Slip)
	}
	return nil
}

// Level returns the fault's amplitude a(t) at time t since the machine's
// first sample (see Fault). It does not allocate.
func (f *Fault) Level(t time.Duration) float64 {
	if t < f.Start {
		return 0
	}
	a := f.Severity
	dt := t - f.Start
	if f.Ramp > 0 && dt < f.Ramp {
		a *= float64(dt) / float64(f.Ramp)
	}
	if f.Growth > 0 {
		// exp overflows past 709; the cap applies long before.
		a *= math.Exp(math.Min(float64(dt)/float64(f.Growth), 700))
	}
	lim := f.Limit
	if lim == 0 {
		lim = 100 * f.Severity
	}
	return math.Min(a, lim)
}

func (f *Fault) slip() float64 {
	switch {
	case f.Slip == 0:
		return 0.01
	case f.Slip < 0:
		return 0
	}
	return f.Slip
}
