package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Member is one machine of a fleet: its id, its seed and its spec, whose
// Faults are the ground truth of what was injected.
type Member struct {
	ID   string // kind and 1-based index: "fan-01", "pump-02", …
	Kind Kind
	Seed uint64
	Spec Spec
}

// New returns the member's machine, New(m.Spec, m.Seed).
func (m *Member) New() (*Machine, error) { return New(m.Spec, m.Seed) }

// Fleet is a list of machines. NewFleet builds a mixed one; a hand-made
// Fleet literal works as well.
type Fleet []Member

// Truth is one injected fault as a detector's score keeper needs it.
type Truth struct {
	Machine    string        // Member.ID
	Kind       Kind          // the machine's kind
	Fault      FaultKind     // what was injected
	Start      time.Duration // onset, since the machine's first sample
	Detectable bool          // Fault.Detectable: whether a detector is expected to see it
	// Visible is when the fault's amplitude first reaches
	// ClearSeverity(Kind, Fault): Start (or the end of its ramp) for a
	// clear fault, later for a degradation that starts small; -1 when it
	// never does before the machine's Duration (hidden faults).
	Visible time.Duration
}

// Truth lists every injected fault of the fleet, in member order. It allocates.
func (f Fleet) Truth() []Truth {
	var t []Truth
	for _, m := range f {
		for _, fl := range m.Spec.Faults {
			t = append(t, Truth{Machine: m.ID, Kind: m.Kind, Fault: fl.Kind, Start: fl.Start,
				Detectable: fl.Detectable, Visible: reaches(&fl, ClearSeverity(m.Kind, fl.Kind), m.Spec.Duration)})
		}
	}
	return t
}

// reaches returns the first time f.Level is at least level, to the
// millisecond, or -1 if that does not happen before end (0: a day after
// the start). Level is non-decreasing in time, so a bisection finds it.
func reaches(f *Fault, level float64, end time.Duration) time.Duration {
	if end <= 0 {
		end = f.Start + 24*time.Hour
	}
	if f.Level(end) < level {
		return -1
	}
	lo, hi := f.Start, end // Level(hi) >= level
	for hi-lo > time.Millisecond {
		mid := lo + (hi-lo)/2
		if f.Level(mid) >= level {
			hi = mid
		} else {
			lo = mid
		}
	}
	if f.Level(lo) >= level {
		return lo
	}
	return hi.Truncate(time.Millisecond)
}

// FleetSettings are NewFleet's settings; nil or zero fields mean the defaults.
type FleetSettings struct {
	// Healthy is the fault-free lead every machine has, the period a
	// detector trains on. Default 2 min.
	Healthy time.Duration
	// Duration is the length of every machine's signal (Spec.Duration).
	// Default 10 min. Faults start between Healthy + 10 % and Healthy + 40 %
	// of the time that remains after Healthy.
	Duration time.Duration
}

func (s *FleetSettings) defaults() FleetSettings {
	var d FleetSettings
	if s != nil {
		d = *s
	}
	if d.Healthy == 0 {
		d.Healthy = 2 * time.Minute
	}
	if d.Duration == 0 {
		d.Duration = 10 * time.Minute
	}
	return d
}

// The role of the i-th fleet member cycles through this pattern, so any
// fleet of 6 or more has clear faults, a growing degradation, a fault too
// small to see and healthy machines.
type role int

const (
	roleFault role = iota
	roleHealthy
	roleDegradation
	roleHidden
)

var rolePattern = [...]role{roleFault, roleHealthy, roleFault, roleDegradation, roleHealthy, roleHidden}

// repertoire lists the faults a clear-fault member of each kind draws from.
var repertoire = map[Kind][]FaultKind{
	Fan:     {OuterRace, InnerRace, Looseness, Wear},
	Pump:    {OuterRace, InnerRace, Ball, Imbalance, Looseness},
	Gearbox: {OuterRace, InnerRace, Ball, Wear},
	Bearing: {OuterRace, InnerRace, Ball, Wear},
	Motor:   {OuterRace, InnerRace, Imbalance, Looseness},
}

// ClearSeverity returns a Fault.Severity at which fault kind fk on a
// machine of preset kind k raises some band of a 48-band log spectrogram
// (1024-sample frames, bands log-spaced from 40 Hz to Nyquist) by 10 dB or
// more over the healthy machine: a fault a spectral-patch detector should
// see. TestFleetLabels measures it; the table is in docs/sim.md. It is the
// same for every kind except Imbalance: 0.3 outer race, 0.5 inner race,
// 0.8 ball, 0.1 looseness, 0.03 wear; imbalance 0.1 on a pump, 0.2 on a
// gearbox or the bearing rig, 0.3 on a motor, 0.4 on a fan. On the
// acoustic fan and gearbox that imbalance is 70 to 100 times their 1× line
// (a microphone barely hears 1×), so NewFleet never gives them one as a
// clear fault. It panics on an unknown fault kind.
func ClearSeverity(k Kind, fk FaultKind) float64 {
	switch fk {
	case OuterRace:
		return 0.3
	case InnerRace:
		return 0.5
	case Ball:
		return 0.8
	case Wear:
		return 0.03
	case Looseness:
		return 0.1
	case Imbalance:
		// The 1× line sits in the lowest bands, whose level depends on
		// the machine's own 1× and low-frequency noise.
		switch k {
		case Pump:
			return 0.1 // its 1× (49 Hz) stands in the 40–60 Hz band, above little pink noise
		case Motor:
			return 0.3
		case Fan:
			return 0.4 // its 1× (24.7 Hz) is below 40 Hz: only leakage shows
		}
		return 0.2
	}
	panic("sim: no clear severity for " + fk.String())
}

// NewFleet returns n machines cycling through the kinds fan, pump,
// gearbox, bearing, motor (ids "fan-01", "pump-02", "gearbox-03",
// "bearing-04", "motor-05", "fan-06", …), each with its own seed derived
// from seed, and a fault schedule cycling through the roles
//
//	i mod 6:  0 clear fault   1 healthy   2 clear fault
//	          3 degradation   4 healthy   5 hidden fault
//
// A clear fault is drawn from the kind's repertoire with a severity that
// stands 10 dB or more above the healthy spectrum in some band; it ramps up
// over 5 s (Detectable). A degradation is an outer-race (bearing, motor,
// fan) or inner-race defect that starts invisible (severity 0.01) and grows
// exponentially to the clear level at 60 % of the time left after its
// start, then on to 3× that (Detectable: a run to failure). A hidden fault
// is an imbalance of 5 % of the machine's own 1× line or an incipient
// outer-race spall of severity 0.01: under 1 dB in every band (not
// Detectable). Onsets fall between Healthy + 10 % and Healthy + 40 % of the
// remaining time, drawn from seed. Same seed, same fleet. NewFleet panics if
// n < 0 or Duration <= Healthy.
func NewFleet(seed uint64, n int, settings *FleetSettings) Fleet {
	s := settings.defaults()
	if n < 0 {
		panic(fmt.Sprintf("sim: NewFleet of %d machines", n))
	}
	if s.Duration <= s.Healthy {
		panic(fmt.Sprintf("sim: fleet Duration %v not after Healthy %v", s.Duration, s.Healthy))
	}
	rng := rand.New(rand.NewPCG(splitmix(seed), splitmix(seed^0xf1ee7)))
	left := s.Duration - s.Healthy
	onset := func() time.Duration {
		return s.Healthy + time.Duration((0.1+0.3*rng.Float64())*float64(left)).Round(time.Second)
	}
	kinds := Kinds()
	f := make(Fleet, n)
	for i := range f {
		k := kinds[i%len(kinds)]
		spec := Preset(k)
		spec.Duration = s.Duration
		switch rolePattern[i%len(rolePattern)] {
		case roleFault:
			rep := repertoire[k]
			fk := rep[rng.IntN(len(rep))]
			spec.Faults = []Fault{{Kind: fk, Start: onset(), Ramp: 5 * time.Second,
				Severity: ClearSeverity(k, fk), Detectable: true}}
		case roleDegradation:
			fk := OuterRace
			if k == Pump || k == Gearbox {
				fk = InnerRace
			}
			start := onset()
			const initial = 0.01
			clear := ClearSeverity(k, fk)
			grow := 0.6 * float64(s.Duration-start) / math.Log(clear/initial)
			spec.Faults = []Fault{{Kind: fk, Start: start, Growth: time.Duration(grow),
				Severity: initial, Limit: 3 * clear, Detectable: true}}
		case roleHidden:
			fl := Fault{Kind: OuterRace, Start: onset(), Ramp: 5 * time.Second, Severity: 0.01}
			if rng.IntN(2) == 0 && len(spec.Harmonics) > 0 {
				fl.Kind, fl.Severity = Imbalance, 0.05*spec.Harmonics[0]
			}
			spec.Faults = []Fault{fl}
		}
		f[i] = Member{ID: fmt.Sprintf("%s-%02d", k, i+1), Kind: k, Seed: splitmix(seed + uint64(i) + 1), Spec: spec}
	}
	return f
}
