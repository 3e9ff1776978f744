package sim

import "math"

// BearingGeometry is the geometry of a rolling-element bearing, which fixes
// its defect frequencies as multiples of the shaft speed.
type BearingGeometry struct {
	Balls         int     // number of rolling elements n
	BallDiameter  float64 // rolling-element diameter d, mm
	PitchDiameter float64 // pitch (cage) diameter D, mm
	ContactAngle  float64 // contact angle φ, radians (0 for a deep-groove ball bearing under radial load)
}

// SKF6205 is the SKF 6205-2RS JEM deep-groove ball bearing of the drive end
// of the Case Western Reserve University bearing rig: 9 balls, d = 7.94 mm,
// D = 39.04 mm, contact angle 0. It is the default bearing of every preset.
// Changing this variable does not change the default.
var SKF6205 = skf6205()

func skf6205() BearingGeometry {
	return BearingGeometry{Balls: 9, BallDiameter: 7.94, PitchDiameter: 39.04, ContactAngle: 0}
}

// DefectFreqs holds the characteristic defect frequencies of a bearing at one
// shaft speed, all in Hz.
type DefectFreqs struct {
	BPFO float64 // ball pass frequency, outer race
	BPFI float64 // ball pass frequency, inner race
	BSF  float64 // ball spin frequency (one ball revolution about its own axis)
	FTF  float64 // fundamental train (cage) frequency
}

// BearingFreqs returns the kinematic defect frequencies of bearing g on a
// shaft turning at shaftHz (Hz, revolutions per second), with a stationary
// outer race, no slip and ρ = (d/D)·cos φ:
//
//	FTF  = fr/2 · (1 − ρ)
//	BPFO = n·fr/2 · (1 − ρ)
//	BPFI = n·fr/2 · (1 + ρ)
//	BSF  = D/(2d) · fr · (1 − ρ²)
//
// BSF is the spin frequency of one ball. A spall on a ball strikes the inner
// and the outer race once per spin, so the impulse rate of a ball fault is
// 2·BSF (some references quote 2·BSF as "the" ball defect frequency; this
// package calls BSF the spin frequency and says 2·BSF where it means the
// impact rate). For the SKF 6205 at 1797 rpm (fr = 29.95 Hz): BPFO = 107.36 Hz,
// BPFI = 162.19 Hz, BSF = 70.58 Hz (2·BSF = 141.17 Hz), FTF = 11.93 Hz,
// the values of the CWRU bearing data center's fault frequency table.
//
// BearingFreqs does not allocate and does not validate g; see Spec.Validate.
func BearingFreqs(shaftHz float64, g BearingGeometry) DefectFreqs {
	r := g.ratios()
	return DefectFreqs{
		BPFO: r.BPFO * shaftHz,
		BPFI: r.BPFI * shaftHz,
		BSF:  r.BSF * shaftHz,
		FTF:  r.FTF * shaftHz,
	}
}

// ratios returns the defect frequencies per unit shaft speed (orders).
func (g BearingGeometry) ratios() DefectFreqs {
	rho := g.BallDiameter / g.PitchDiameter * math.Cos(g.ContactAngle)
	n := float64(g.Balls)
	return DefectFreqs{
		BPFO: n / 2 * (1 - rho),
		BPFI: n / 2 * (1 + rho),
		BSF:  g.PitchDiameter / (2 * g.BallDiameter) * (1 - rho*rho),
		FTF:  (1 - rho) / 2,
	}
}
