package sim

import (
	"math"
	"testing"
	"time"
)

// still returns the preset with its speed and load drift switched off, so
// lines sit exactly where the nominal speed puts them.
func still(k Kind) Spec {
	s := Preset(k)
	s.SpeedDrift, s.LoadDrift = Drift{}, Drift{}
	return s
}

func TestHealthyShaftHarmonics(t *testing.T) {
	// 20 s at 29.95 Hz is 599 revolutions: every harmonic is centred on a
	// bin, so the Hann-windowed amplitude is exact up to the noise.
	s := still(Bearing)
	x := gen(t, s, 1, int(20*s.Rate))
	mag, df := amplitudeSpectrum(x, s.Rate)
	fr := s.RPM / 60
	for k, want := range s.Harmonics {
		f := float64(k+1) * fr
		got := peak(mag, df, f, 0.01)
		// noise adds about 1.5 % scatter to the 10 mg 3× line
		if math.Abs(got-want) > 0.06*want {
			t.Errorf("%d× (%.2f Hz): amplitude %.5f g, want %.5f g", k+1, f, got, want)
		}
		if fl := floor(mag, df, f, 5); got < 50*fl {
			t.Errorf("%d×: peak %.2g g only %.0f× the floor %.2g g", k+1, got, got/fl, fl)
		}
	}
	// 4× and the half orders are absent from a healthy machine.
	for _, o := range []float64{0.5, 1.5, 2.5, 4} {
		f := o * fr
		if p, fl := peak(mag, df, f, 0.01), floor(mag, df, f, 5); p > 5*fl {
			t.Errorf("healthy machine has a %.1f× line: %.2g g over a floor of %.2g g", o, p, fl)
		}
	}
}

func TestHarmonicsWithDrift(t *testing.T) {
	// With speed drift the lines smear by ±0.6 % but stay clear.
	for _, k := range []Kind{Bearing, Motor} {
		s := Preset(k)
		x := gen(t, s, 2, int(2*s.Rate))
		mag, df := amplitudeSpectrum(x, s.Rate)
		fr := s.RPM / 60
		for h := 1; h <= 3; h++ {
			f := float64(h) * fr
			tol := f*s.SpeedDrift.Bound + 2*df
			if p, fl := peak(mag, df, f, tol), floor(mag, df, f, 20); p < 10*fl {
				t.Errorf("%v %d×: peak %.2g only %.1f× the floor", k, h, p, p/fl)
			}
		}
	}
}

func TestGearMesh(t *testing.T) {
	// Gearbox: 23 teeth at 25 Hz, mesh 575 Hz, sidebands at 550 and
	// 600 Hz of Amp·Sideband/2, second harmonic at 1150 Hz. 2 s puts every
	// line on a bin.
	s := still(Gearbox)
	s.White, s.Pink, s.ResonanceNoise = 0, 0, 0 // the lines alone
	x := gen(t, s, 3, int(2*s.Rate))
	mag, df := amplitudeSpectrum(x, s.Rate)
	me := s.Mesh
	for _, c := range []struct {
		f, want float64
	}{
		{575, me.Amp}, {550, me.Amp * me.Sideband / 2}, {600, me.Amp * me.Sideband / 2}, {1150, me.Amp2},
	} {
		if got := peak(mag, df, c.f, 0.01); math.Abs(got-c.want) > 0.001*c.want {
			t.Errorf("line at %.0f Hz: %.5f, want %.5f", c.f, got, c.want)
		}
	}
}

func TestEnvelopeSpectrumShowsDefect(t *testing.T) {
	// Demodulate the 3 kHz housing resonance of the bearing rig, as an
	// analyst would, and look for the defect lines in the envelope
	// spectrum. 4 s give 0.25 Hz bins.
	base := Preset(Bearing)
	fr := base.RPM / 60
	d := base.DefectFreqs()
	tol := 0.02 * d.BPFI // speed drift (±0.6 %) plus slip
	// Absent lines are looked for closer: 2·BSF+2·FTF (165.0 Hz) is a true
	// sideband of a ball fault 2.8 Hz from BPFI.
	const tolAbsent = 1.2
	type line struct {
		name string
		f    float64
	}
	for _, c := range []struct {
		kind    FaultKind
		present []line
		absent  []line
	}{
		{OuterRace, []line{{"BPFO", d.BPFO}, {"2·BPFO", 2 * d.BPFO}}, []line{{"BPFI", d.BPFI}, {"2·BSF", 2 * d.BSF}}},
		{InnerRace, []line{{"BPFI", d.BPFI}, {"BPFI-fr", d.BPFI - fr}, {"BPFI+fr", d.BPFI + fr}, {"fr", fr}}, []line{{"BPFO", d.BPFO}}},
		{Ball, []line{{"2·BSF", 2 * d.BSF}, {"BSF", d.BSF}, {"FTF", d.FTF}}, []line{{"BPFI", d.BPFI}}},
	} {
		t.Run(c.kind.String(), func(t *testing.T) {
			s := Preset(Bearing)
			s.Faults = []Fault{{Kind: c.kind, Severity: 0.5}}
			x := gen(t, s, 4, int(4*s.Rate))
			env, df := envelopeSpectrum(x, s.Rate, 2500, 3500)
			for _, l := range c.present {
				p, fl := peak(env, df, l.f, tol), floor(env, df, l.f, 15)
				t.Logf("%s: %.1f× floor", l.name, p/fl)
				if p < 8*fl {
					t.Errorf("%s at %.2f Hz: peak %.3g only %.1f× the floor %.3g", l.name, l.f, p, p/fl, fl)
				}
			}
			for _, l := range c.absent {
				p, fl := peak(env, df, l.f, tolAbsent), floor(env, df, l.f, 15)
				t.Logf("absent %s: %.1f× floor", l.name, p/fl)
				if p > 5*fl {
					t.Errorf("%s at %.2f Hz should be absent: peak %.3g is %.1f× the floor", l.name, l.f, p, p/fl)
				}
			}
		})
	}
	t.Run("healthy", func(t *testing.T) {
		x := gen(t, Preset(Bearing), 4, int(4*base.Rate))
		env, df := envelopeSpectrum(x, base.Rate, 2500, 3500)
		for _, f := range []float64{d.BPFO, d.BPFI, 2 * d.BSF} {
			if p, fl := peak(env, df, f, tolAbsent), floor(env, df, f, 15); p > 5*fl {
				t.Errorf("healthy envelope has a line at %.2f Hz: %.1f× the floor", f, p/fl)
			}
		}
	})
}

// bandPower returns the mean power of x in [lo, hi] Hz.
func bandPower(x []float32, rate, lo, hi float64) float64 {
	mag, df := amplitudeSpectrum(x, rate)
	var p float64
	for k := int(lo / df); k <= int(hi/df); k++ {
		p += mag[k] * mag[k] / 2
	}
	return p
}

func TestFaultOnset(t *testing.T) {
	// The healthy and the faulty machine share a seed: every component
	// draws from its own random stream, so they are identical, bit for
	// bit, until the fault starts, and the fault's mark after it is
	// exactly what it adds.
	const start = 1500 * time.Millisecond
	for _, c := range []struct {
		kind     FaultKind
		sev      float64
		lo, hi   float64 // band where the fault must show, Hz
		minRatio float64 // faulty/healthy band power after the start
	}{
		{OuterRace, 0.3, 2500, 3500, 4},
		{InnerRace, 0.5, 2500, 3500, 4},
		{Ball, 0.8, 2500, 3500, 4},
		{Wear, 0.03, 2500, 3500, 4},
		{Imbalance, 0.05, 25, 35, 3},  // 1× at 29.95 Hz: 0.05 g → ≥ 0.085 g
		{Looseness, 0.05, 10, 20, 30}, // 0.5× at 15 Hz, absent before
	} {
		t.Run(c.kind.String(), func(t *testing.T) {
			s := Preset(Bearing)
			n := int(3 * s.Rate)
			h := gen(t, s, 5, n)
			s.Faults = []Fault{{Kind: c.kind, Start: start, Severity: c.sev}}
			f := gen(t, s, 5, n)
			first := int(math.Ceil(start.Seconds() * s.Rate))
			for i := range first {
				if h[i] != f[i] {
					t.Fatalf("sample %d (%.4f s, before the start) differs: %g vs %g", i, float64(i)/s.Rate, h[i], f[i])
				}
			}
			// The first impulse comes within one defect period (< 15 ms here).
			changed := -1
			for i := first; i < first+int(0.015*s.Rate); i++ {
				if h[i] != f[i] {
					changed = i
					break
				}
			}
			if changed < 0 {
				t.Errorf("no change within 15 ms of the start")
			}
			after := first + int(0.1*s.Rate)
			ph, pf := bandPower(h[after:], s.Rate, c.lo, c.hi), bandPower(f[after:], s.Rate, c.lo, c.hi)
			if pf < c.minRatio*ph {
				t.Errorf("band %.0f–%.0f Hz after the start: faulty %.3g vs healthy %.3g (×%.2f), want ×%.0f",
					c.lo, c.hi, pf, ph, pf/ph, c.minRatio)
			}
		})
	}
}

func TestImbalanceAndLoosenessLines(t *testing.T) {
	// At 1800 rpm, 2 s put every half order on a bin. No noise: this
	// checks the lines' model, and lines of 5 mg are not far above it.
	s := still(Bearing)
	s.RPM = 1800
	s.White, s.Pink, s.ResonanceNoise = 0, 0, 0
	n := int(2 * s.Rate)
	fr := s.RPM / 60
	line := func(x []float32, o float64) float64 {
		mag, df := amplitudeSpectrum(x, s.Rate)
		return peak(mag, df, o*fr, 0.01)
	}
	healthy := gen(t, s, 6, n)
	a0 := line(healthy, 1)

	s.Faults = []Fault{{Kind: Imbalance, Severity: 0.05}}
	a1 := line(gen(t, s, 6, n), 1)
	// The added vector is within ±45° of the residual one.
	lo := math.Sqrt(a0*a0 + 0.05*0.05 + 2*a0*0.05*math.Cos(math.Pi/4))
	if a1 < 0.999*lo || a1 > 1.001*(a0+0.05) {
		t.Errorf("imbalance 0.05 g: 1× went from %.4f to %.4f g, want within [%.4f, %.4f]", a0, a1, lo, a0+0.05)
	}

	s.Faults = []Fault{{Kind: Looseness, Severity: 0.05}}
	loose := gen(t, s, 6, n)
	for _, c := range []struct{ order, want float64 }{
		{0.5, 0.5 * 0.05 * math.Pow(0.5, -0.7)},
		{1.5, 0.5 * 0.05 * math.Pow(1.5, -0.7)},
		{5, 0.05 * math.Pow(5, -0.7)},
		{9.5, 0.5 * 0.05 * math.Pow(9.5, -0.7)},
	} {
		if got := line(loose, c.order); math.Abs(got-c.want) > 0.001*c.want {
			t.Errorf("looseness %.1f×: %.5f g, want %.5f g", c.order, got, c.want)
		}
		if h := line(healthy, c.order); h > 0.001*c.want {
			t.Errorf("healthy machine already has %.1f× at %.5f g", c.order, h)
		}
	}
}
