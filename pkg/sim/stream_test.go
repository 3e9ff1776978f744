package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// busy is a spec with every component and every fault, so the streaming
// tests cover all the state a Machine carries between calls.
func busy() Spec {
	s := Preset(Gearbox)
	s.SpeedDrift = Drift{Walk: 0.01, Tau: time.Second, Sine: 0.01, Period: 3 * time.Second, Bound: 0.03}
	s.Faults = []Fault{
		{Kind: OuterRace, Start: 50 * time.Millisecond, Severity: 0.2},
		{Kind: InnerRace, Start: 100 * time.Millisecond, Ramp: 200 * time.Millisecond, Severity: 0.2},
		{Kind: Ball, Start: 0, Growth: time.Second, Severity: 0.05, Slip: 0.02},
		{Kind: Imbalance, Start: 300 * time.Millisecond, Severity: 0.01},
		{Kind: Looseness, Start: 200 * time.Millisecond, Severity: 0.01},
		{Kind: Wear, Start: 400 * time.Millisecond, Severity: 0.005},
	}
	return s
}

func TestChunkingInvariance(t *testing.T) {
	s := busy()
	const n = 40000 // 2.5 s at 16 kHz
	whole := gen(t, s, 9, n)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		name string
		size func() int
	}{
		{"1", func() int { return 1 }},
		{"31", func() int { return 31 }},
		{"32", func() int { return 32 }},
		{"33", func() int { return 33 }},
		{"1000", func() int { return 1000 }},
		{"random0-3000", func() int { return rng.IntN(3001) }}, // zero-length reads included
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(s, 9+*seedShift)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 0, n)
			buf := make([]float32, 3000)
			for len(got) < n {
				k := min(c.size(), n-len(got))
				if r := m.Read(buf[:k]); r != k {
					t.Fatalf("Read(%d) = %d", k, r)
				}
				got = append(got, buf[:k]...)
			}
			for i := range whole {
				if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
					t.Fatalf("sample %d: chunked %g, whole %g", i, got[i], whole[i])
				}
			}
			if m.Samples() != n {
				t.Errorf("Samples() = %d, want %d", m.Samples(), n)
			}
		})
	}
}

func TestSeed(t *testing.T) {
	s := busy()
	a, b, c := gen(t, s, 11, 20000), gen(t, s, 11, 20000), gen(t, s, 12, 20000)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("same seed, sample %d differs: %g vs %g", i, a[i], b[i])
		}
	}
	var same int
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 10 {
		t.Errorf("seeds 11 and 12 share %d of %d samples", same, len(a))
	}
}

func TestDurationEnds(t *testing.T) {
	s := Preset(Fan)
	s.Duration = 100 * time.Millisecond // 1600 samples
	m, err := New(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 1000)
	if n := m.Read(buf); n != 1000 {
		t.Fatalf("first Read = %d", n)
	}
	if n := m.Read(buf); n != 600 {
		t.Fatalf("second Read = %d, want 600", n)
	}
	if !m.Done() {
		t.Error("Done() false after the whole duration")
	}
	if n := m.Read(buf); n != 0 {
		t.Fatalf("Read after the end = %d", n)
	}
	if e := m.Elapsed(); e != 100*time.Millisecond {
		t.Errorf("Elapsed() = %v", e)
	}
}

func TestDriftBounded(t *testing.T) {
	// A cheap machine (1 kHz, no noise) with a strong drift, 20 min long.
	s := Spec{Sensor: Vibration, Rate: 1000, RPM: 600, Harmonics: []float64{1},
		SpeedDrift: Drift{Walk: 0.05, Tau: 10 * time.Second, Sine: 0.02, Period: 7 * time.Second, Bound: 0.08},
		LoadDrift:  Drift{Walk: 0.2, Tau: 5 * time.Second}, // Bound defaults to 3·Walk
	}
	m, err := New(s, 3)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, ctrlEvery)
	lo, hi := math.Inf(1), math.Inf(-1)
	llo, lhi := math.Inf(1), math.Inf(-1)
	var sum, sum2 float64
	const blocks = 20 * 60 * 1000 / ctrlEvery
	for range blocks {
		m.Read(buf)
		d := m.ShaftHz()/10 - 1
		lo, hi = min(lo, d), max(hi, d)
		sum += d
		sum2 += d * d
		llo, lhi = min(llo, m.Load()), max(lhi, m.Load())
	}
	if lo < -0.08-1e-12 || hi > 0.08+1e-12 {
		t.Errorf("speed deviation reached [%.4f, %.4f], bound 0.08", lo, hi)
	}
	if lo > -0.06 || hi < 0.06 {
		t.Errorf("speed deviation stayed in [%.4f, %.4f]: the walk barely moved", lo, hi)
	}
	mean := sum / blocks
	sd := math.Sqrt(sum2/blocks - mean*mean)
	// walk σ 0.05 plus sine 0.02/√2, less the clamp: about 0.05
	if math.Abs(mean) > 0.02 || sd < 0.035 || sd > 0.06 {
		t.Errorf("speed deviation mean %.4f sd %.4f, want about 0 and 0.05", mean, sd)
	}
	if llo < 1-0.6-1e-12 || lhi > 1+0.6+1e-12 {
		t.Errorf("load reached [%.3f, %.3f], bound 1±0.6", llo, lhi)
	}
}

func TestNoiseLevelsAndPinkSlope(t *testing.T) {
	const rate = 16000
	for _, c := range []struct {
		name        string
		white, pink float64
		slope       float64 // dB per octave of the power spectral density
	}{
		{"white", 0.1, 0, 0},
		{"pink", 0, 0.1, -3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Spec{Sensor: Acoustic, Rate: rate, RPM: 600, White: c.white, Pink: c.pink}
			// Pink noise's power sits in slow components: 30 s estimate its
			// RMS to about 1 %.
			x := gen(t, s, 4, 30*rate)
			var p float64
			for _, v := range x {
				p += float64(v) * float64(v)
			}
			rms := math.Sqrt(p / float64(len(x)))
			if want := c.white + c.pink; math.Abs(rms-want) > 0.03*want {
				t.Errorf("RMS %.4f, want %.4f", rms, want)
			}
			// Octave bands 125 Hz to 4 kHz: the PSD slope by least squares.
			mag, df := amplitudeSpectrum(x, rate)
			var xs, ys []float64
			for f := 125.0; f < 4000; f *= 2 {
				var p float64
				for k := int(f / df); k < int(2*f/df); k++ {
					p += mag[k] * mag[k]
				}
				xs = append(xs, math.Log2(f))
				ys = append(ys, 10*math.Log10(p/f))
			}
			var mx, my, sxy, sxx float64
			for i := range xs {
				mx += xs[i] / float64(len(xs))
				my += ys[i] / float64(len(ys))
			}
			for i := range xs {
				sxy += (xs[i] - mx) * (ys[i] - my)
				sxx += (xs[i] - mx) * (xs[i] - mx)
			}
			if slope := sxy / sxx; math.Abs(slope-c.slope) > 0.5 {
				t.Errorf("PSD slope %.2f dB/octave, want %.0f", slope, c.slope)
			}
		})
	}
}

func TestResonance(t *testing.T) {
	const rate, f0, q = 25600.0, 3000.0, 20.0
	// The documented resonator: |H(f)|² of sin ω / (1 − 2r cos ω z⁻¹ + r² z⁻²).
	w0 := 2 * math.Pi * f0 / rate
	r := math.Exp(-math.Pi * f0 / (q * rate))
	h2 := func(f float64) float64 {
		w := 2 * math.Pi * f / rate
		re := 1 - 2*r*math.Cos(w0)*math.Cos(w) + r*r*math.Cos(2*w)
		im := 2*r*math.Cos(w0)*math.Sin(w) - r*r*math.Sin(2*w)
		return math.Sin(w0) * math.Sin(w0) / (re*re + im*im)
	}
	// Its peak sits at Freq and its half-power bandwidth is Freq/Q.
	fp, pmax := 0.0, 0.0
	for f := 2500.0; f < 3500; f += 0.1 {
		if p := h2(f); p > pmax {
			fp, pmax = f, p
		}
	}
	lo, hi := fp, fp
	for h2(lo) > pmax/2 {
		lo -= 0.1
	}
	for h2(hi) > pmax/2 {
		hi += 0.1
	}
	if math.Abs(fp-f0) > 0.002*f0 || math.Abs((hi-lo)-f0/q) > 0.02*f0/q {
		t.Errorf("resonator peak %.1f Hz, bandwidth %.1f Hz; want %.0f and %.0f", fp, hi-lo, f0, f0/q)
	}

	// The generated signal, driven by white resonance noise only, has that
	// shape: band powers from 2.4 to 3.6 kHz, each relative to the total,
	// match the theory within 20 % (a 100 Hz band of 8 s of noise holds 800
	// Hann bins, about 400 independent ones: 5 % scatter).
	s := Spec{Sensor: Vibration, Rate: rate, RPM: 600, ResonanceNoise: 0.01,
		Resonances: []Resonance{{Freq: f0, Q: q, Gain: 1}}}
	x := gen(t, s, 8, int(8*rate))
	mag, df := amplitudeSpectrum(x, rate)
	const bw = 100.0
	var meas, theo []float64
	var sm, st float64
	for f := 2400.0; f < 3600; f += bw {
		var pm, pt float64
		for k := int(f / df); k < int((f+bw)/df); k++ {
			pm += mag[k] * mag[k]
			pt += h2(float64(k) * df)
		}
		meas, theo = append(meas, pm), append(theo, pt)
		sm += pm
		st += pt
	}
	for i := range meas {
		if got, want := meas[i]/sm, theo[i]/st; math.Abs(got-want) > 0.2*want {
			t.Errorf("band %.0f Hz: %.4f of the power, want %.4f", 2400+bw*float64(i), got, want)
		}
	}
}

func TestFaultLevel(t *testing.T) {
	sec := time.Second
	for _, c := range []struct {
		f    Fault
		t    time.Duration
		want float64
	}{
		{Fault{Severity: 2, Start: 10 * sec}, 9 * sec, 0},
		{Fault{Severity: 2, Start: 10 * sec}, 10 * sec, 2},
		{Fault{Severity: 2, Start: 10 * sec, Ramp: 4 * sec}, 11 * sec, 0.5},
		{Fault{Severity: 2, Start: 10 * sec, Ramp: 4 * sec}, 20 * sec, 2},
		{Fault{Severity: 2, Start: 10 * sec, Growth: 5 * sec}, 15 * sec, 2 * math.E},
		{Fault{Severity: 2, Start: 10 * sec, Growth: 5 * sec}, 1000 * sec, 200},        // default Limit 100·Severity
		{Fault{Severity: 2, Start: 10 * sec, Growth: 5 * sec, Limit: 7}, 1e6 * sec, 7}, // no overflow
		{Fault{Severity: 2, Start: 10 * sec, Ramp: 5 * sec, Growth: 5 * sec}, 15 * sec, 2 * math.E},
	} {
		if got := c.f.Level(c.t); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v at %v: level %g, want %g", c.f, c.t, got, c.want)
		}
	}
}

func TestActiveFaults(t *testing.T) {
	m, err := New(busy(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []FaultKind
	for _, f := range m.ActiveFaults(nil, 250*time.Millisecond) {
		kinds = append(kinds, f.Kind)
	}
	want := []FaultKind{OuterRace, InnerRace, Ball, Looseness}
	if len(kinds) != len(want) {
		t.Fatalf("active at 250 ms: %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("active at 250 ms: %v, want %v", kinds, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Spec)
	}{
		{"rate", func(s *Spec) { s.Rate = 0 }},
		{"rpm", func(s *Spec) { s.RPM = -1 }},
		{"sensor", func(s *Spec) { s.Sensor = 7 }},
		{"harmonic above nyquist", func(s *Spec) { s.Harmonics = make([]float64, 16); s.RPM = 60000 }},
		{"negative harmonic", func(s *Spec) { s.Harmonics[1] = -1 }},
		{"mesh aliasing", func(s *Spec) { s.Mesh.Teeth = 400 }},
		{"sideband depth", func(s *Spec) { s.Mesh.Sideband = 2 }},
		{"resonance above nyquist", func(s *Spec) { s.Resonances[0].Freq = 9000 }},
		{"resonance Q", func(s *Spec) { s.Resonances[0].Q = 0.1 }},
		{"negative noise", func(s *Spec) { s.Pink = -1 }},
		{"drift to zero speed", func(s *Spec) { s.SpeedDrift.Bound = 1 }},
		{"sine without period", func(s *Spec) { s.LoadDrift.Sine, s.LoadDrift.Period = 0.1, 0 }},
		{"bearing", func(s *Spec) { s.Bearing = BearingGeometry{Balls: 9, BallDiameter: 40, PitchDiameter: 39} }},
		{"fault kind", func(s *Spec) { s.Faults = []Fault{{Kind: 99, Severity: 1}} }},
		{"fault severity", func(s *Spec) { s.Faults = []Fault{{Kind: Ball}} }},
		{"fault start", func(s *Spec) { s.Faults = []Fault{{Kind: Ball, Severity: 1, Start: -1}} }},
		{"duration", func(s *Spec) { s.Duration = -1 }},
		{"too many resonances", func(s *Spec) { s.Resonances = make([]Resonance, 9) }},
		{"impacts without resonance", func(s *Spec) {
			s.Resonances = nil
			s.Faults = []Fault{{Kind: OuterRace, Severity: 1}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Preset(Fan)
			c.edit(&s)
			if _, err := New(s, 1); !errors.Is(err, ErrSpec) {
				t.Errorf("New: err = %v, want ErrSpec", err)
			}
		})
	}
	for _, k := range Kinds() {
		s := Preset(k)
		if err := s.Validate(); err != nil {
			t.Errorf("Preset(%v): %v", k, err)
		}
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	m, err := New(busy(), 1)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 1000)
	if a := testing.AllocsPerRun(50, func() { m.Read(buf) }); a != 0 {
		t.Errorf("Read allocates %.1f times per call", a)
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for _, k := range Kinds() {
		if got, err := ParseKind(k.String()); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	for k := OuterRace; k <= Wear; k++ {
		if got, err := ParseFaultKind(k.String()); err != nil || got != k {
			t.Errorf("ParseFaultKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("toaster"); err == nil {
		t.Error("ParseKind accepted toaster")
	}
}

// TestDriftStationary checks that a drift starts from its stationary
// distribution, so the first healthy minutes of a machine, on which a
// detector trains, already span the range it shows later: over 4000
// machines the spread at t = 0 equals the spread after 10 τ.
func TestDriftStationary(t *testing.T) {
	d := Drift{Walk: 0.01, Tau: 20 * time.Second, Bound: 0.03}
	const seeds, dt = 4000, 0.1
	steps := int(10 * d.Tau.Seconds() / dt)
	var s0, s1, m0, m1 float64
	for seed := range uint64(seeds) {
		p := newDrift(d, dt, newRand(seed+*seedShift, streamSpeed))
		v0 := p.next()
		for range steps - 1 {
			p.next()
		}
		v1 := p.next()
		m0 += v0 / seeds
		m1 += v1 / seeds
		s0 += v0 * v0 / seeds
		s1 += v1 * v1 / seeds
	}
	sd0, sd1 := math.Sqrt(s0-m0*m0), math.Sqrt(s1-m1*m1)
	// The walk's σ is 0.01, slightly less after reflection at 3σ; the
	// standard error of each estimate is about 1.1 %.
	if math.Abs(sd0-sd1) > 0.06*sd1 || math.Abs(sd1-0.01) > 0.06*0.01 {
		t.Errorf("spread at t=0 %.5f, after 10τ %.5f, want both 0.0100", sd0, sd1)
	}
	if math.Abs(m0) > 0.001 || math.Abs(m1) > 0.001 {
		t.Errorf("means %.5f and %.5f, want 0", m0, m1)
	}
}
