package sim

import (
	"math"
	"testing"
)

// The reference values are the CWRU Bearing Data Center's fault-frequency
// table for the drive-end SKF 6205-2RS JEM, in multiples of the running
// speed: inner ring 5.4152, outer ring 3.5848, cage 0.39828, rolling
// element 4.7135. The CWRU "rolling element" figure is 2·BSF (the impact
// rate of a ball spall); this package's BSF is the spin frequency, half of it.
func TestBearingFreqs6205(t *testing.T) {
	fr := 1797.0 / 60
	got := BearingFreqs(fr, SKF6205)
	for _, c := range []struct {
		name      string
		got, want float64 // Hz
	}{
		{"BPFO", got.BPFO, 3.5848 * fr},
		{"BPFI", got.BPFI, 5.4152 * fr},
		{"2·BSF", 2 * got.BSF, 4.7135 * fr},
		{"FTF", got.FTF, 0.39828 * fr},
		// hand computed, d/D = 7.94/39.04, fr = 29.95 Hz
		{"BPFO hand", got.BPFO, 107.364},
		{"BPFI hand", got.BPFI, 162.186},
		{"BSF hand", got.BSF, 70.585},
		{"FTF hand", got.FTF, 11.929},
	} {
		if math.Abs(c.got-c.want) > 0.01 {
			t.Errorf("%s = %.4f Hz, want %.4f Hz", c.name, c.got, c.want)
		}
	}
	// BPFO + BPFI = n·fr and BPFO = n·FTF hold for any geometry.
	if d := got.BPFO + got.BPFI - 9*fr; math.Abs(d) > 1e-9 {
		t.Errorf("BPFO+BPFI-n·fr = %g", d)
	}
	if d := got.BPFO - 9*got.FTF; math.Abs(d) > 1e-9 {
		t.Errorf("BPFO-n·FTF = %g", d)
	}
}

func TestBearingFreqsContactAngle(t *testing.T) {
	// A 40° angular-contact bearing: cos φ shrinks the effective ratio.
	g := BearingGeometry{Balls: 12, BallDiameter: 10, PitchDiameter: 50, ContactAngle: 40 * math.Pi / 180}
	rho := 0.2 * math.Cos(40*math.Pi/180)
	got := BearingFreqs(10, g)
	want := DefectFreqs{BPFO: 60 * (1 - rho), BPFI: 60 * (1 + rho), BSF: 2.5 * 10 * (1 - rho*rho), FTF: 5 * (1 - rho)}
	if math.Abs(got.BPFO-want.BPFO) > 1e-9 || math.Abs(got.BPFI-want.BPFI) > 1e-9 ||
		math.Abs(got.BSF-want.BSF) > 1e-9 || math.Abs(got.FTF-want.FTF) > 1e-9 {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
