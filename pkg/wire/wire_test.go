package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func sampleFrame(enc Encoding, n int) *RawFrame {
	rng := rand.New(rand.NewPCG(1, 1))
	f := &RawFrame{Machine: "pump-7", Sensor: "de", SampleRate: 16000, TimestampNs: 1_700_000_000_123_456_789, Seq: 42, Encoding: enc}
	if enc == Int16 {
		f.Scale = 0.001
		f.Int16 = make([]int16, n)
		for i := range f.Int16 {
			f.Int16[i] = int16(rng.IntN(65536) - 32768)
		}
	} else {
		f.Float32 = make([]float32, n)
		for i := range f.Float32 {
			f.Float32[i] = float32(rng.NormFloat64())
		}
	}
	return f
}

func TestRawFrameRoundTrip(t *testing.T) {
	for _, enc := range []Encoding{Int16, Float32} {
		for _, n := range []int{1, 7, 8000} {
			t.Run(enc.String()+"/"+itoa(n), func(t *testing.T) {
				f := sampleFrame(enc, n)
				b := AppendRawFrame(nil, f)
				if len(b) != RawFrameSize(f) {
					t.Fatalf("encoded %d bytes, RawFrameSize says %d", len(b), RawFrameSize(f))
				}
				var g RawFrame
				if err := DecodeRawFrame(&g, b); err != nil {
					t.Fatal(err)
				}
				if enc == Int16 && g.Float32 == nil {
					g.Float32 = nil
				}
				want := *f
				if enc == Int16 {
					want.Float32 = g.Float32
				} else {
					want.Int16 = g.Int16
				}
				if !reflect.DeepEqual(&g, &want) {
					t.Fatalf("round trip differs:\n got %+v\nwant %+v", g, want)
				}
			})
		}
	}
}

// TestRawFrameLayout pins the byte layout documented in docs/wire.md.
func TestRawFrameLayout(t *testing.T) {
	f := &RawFrame{Machine: "m1", Sensor: "x", SampleRate: 16000, TimestampNs: 1, Seq: 2, Encoding: Int16, Scale: 0.5, Int16: []int16{1, -2}}
	got := AppendRawFrame(nil, f)
	var want []byte
	want = append(want, 'R', 1, 1, 2, 'm', '1', 1, 'x')
	want = binary.LittleEndian.AppendUint64(want, math.Float64bits(16000))
	want = binary.LittleEndian.AppendUint64(want, 1)
	want = binary.LittleEndian.AppendUint64(want, 2)
	want = binary.LittleEndian.AppendUint32(want, math.Float32bits(0.5))
	want = binary.LittleEndian.AppendUint32(want, 2)
	want = append(want, 0x01, 0x00, 0xfe, 0xff)
	if !bytes.Equal(got, want) {
		t.Fatalf("layout\n got % x\nwant % x", got, want)
	}
	vals := f.AppendValues(nil)
	if !reflect.DeepEqual(vals, []float32{0.5, -1}) {
		t.Fatalf("AppendValues = %v, want [0.5 -1]", vals)
	}
	if d := f.DurationNs(); d != 125_000 {
		t.Fatalf("DurationNs = %d, want 125000 (2 samples at 16 kHz)", d)
	}
}

func TestRawFrameBad(t *testing.T) {
	good := AppendRawFrame(nil, sampleFrame(Float32, 4))
	mut := func(fn func(f *RawFrame)) []byte {
		f := sampleFrame(Float32, 4)
		fn(f)
		return AppendRawFrame(nil, f)
	}
	hugeCount := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeCount[len(good)-16-4:], math.MaxUint32)
	bigCount := bytes.Clone(good)
	binary.LittleEndian.PutUint32(bigCount[len(good)-16-4:], 1000)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic", append([]byte{'X'}, good[1:]...), ErrMagic},
		{"version", append([]byte{'R', 9}, good[2:]...), ErrVersion},
		{"encoding", append([]byte{'R', 1, 7}, good[3:]...), ErrEncoding},
		{"truncated header", good[:10], ErrTruncated},
		{"truncated samples", good[:len(good)-1], ErrTruncated},
		{"trailing", append(bytes.Clone(good), 0), ErrTrailing},
		{"count 2^32-1", hugeCount, ErrLength},
		{"count beyond data", bigCount, ErrTruncated},
		{"empty machine", mut(func(f *RawFrame) { f.Machine = "" }), ErrMachine},
		{"zero rate", mut(func(f *RawFrame) { f.SampleRate = 0 }), ErrRate},
		{"negative rate", mut(func(f *RawFrame) { f.SampleRate = -1 }), ErrRate},
		{"NaN rate", mut(func(f *RawFrame) { f.SampleRate = math.NaN() }), ErrRate},
		{"Inf rate", mut(func(f *RawFrame) { f.SampleRate = math.Inf(1) }), ErrRate},
		{"NaN sample", mut(func(f *RawFrame) { f.Float32[2] = float32(math.NaN()) }), ErrNonFinite},
		{"Inf sample", mut(func(f *RawFrame) { f.Float32[0] = float32(math.Inf(-1)) }), ErrNonFinite},
		{"no samples", mut(func(f *RawFrame) { f.Float32 = nil }), ErrLength},
		{"zero scale", AppendRawFrame(nil, &RawFrame{Machine: "m", SampleRate: 1, Encoding: Int16, Int16: []int16{1}}), ErrScale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f RawFrame
			err := DecodeRawFrame(&f, tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeRawFrame error = %v, want %v", err, tc.want)
			}
			if Reason(err) == "" {
				t.Fatalf("Reason(%v) is empty", err)
			}
		})
	}
}

func TestRawFrameJSON(t *testing.T) {
	for _, enc := range []Encoding{Int16, Float32} {
		f := sampleFrame(enc, 33)
		b, err := AppendRawFrameJSON(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		var g RawFrame
		if err := DecodeRawFrameJSON(&g, b); err != nil {
			t.Fatalf("%s: %v\n%s", enc, err, b)
		}
		if !bytes.Equal(AppendRawFrame(nil, &g), AppendRawFrame(nil, f)) {
			t.Fatalf("%s: JSON round trip changed the frame", enc)
		}
	}
	// base64 form and a timestamp as a string (JavaScript clients).
	raw := []byte{1, 0, 0xfe, 0xff}
	doc := `{"machine":"m","sensor":"s","sample_rate":8000,"timestamp_ns":"1700000000123456789","seq":3,` +
		`"encoding":"int16","scale":0.25,"samples_b64":"` + base64.StdEncoding.EncodeToString(raw) + `"}`
	var g RawFrame
	if err := DecodeRawFrameJSON(&g, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if g.TimestampNs != 1700000000123456789 || !reflect.DeepEqual(g.Int16, []int16{1, -2}) || g.Scale != 0.25 {
		t.Fatalf("decoded %+v", g)
	}
	for _, tc := range []struct {
		name, doc string
		want      error
	}{
		{"not json", `{`, ErrJSON},
		{"unknown field", `{"machine":"m","sample_rate":1,"samples":[1],"samplerate":2}`, ErrJSON},
		{"trailing", `{"machine":"m","sample_rate":1,"samples":[1]} {}`, ErrJSON},
		{"both sample forms", `{"machine":"m","sample_rate":1,"samples":[1],"samples_b64":"AAAAAA=="}`, ErrJSON},
		{"empty machine", `{"machine":"","sample_rate":1,"samples":[1]}`, ErrMachine},
		{"no samples", `{"machine":"m","sample_rate":1}`, ErrLength},
		{"float32 overflow", `{"machine":"m","sample_rate":1,"samples":[1e39]}`, ErrNonFinite},
		{"int16 fraction", `{"machine":"m","sample_rate":1,"encoding":"int16","scale":1,"samples":[1.5]}`, ErrLength},
		{"int16 range", `{"machine":"m","sample_rate":1,"encoding":"int16","scale":1,"samples":[40000]}`, ErrLength},
		{"bad encoding", `{"machine":"m","sample_rate":1,"encoding":"int8","samples":[1]}`, ErrEncoding},
		{"scale on float32", `{"machine":"m","sample_rate":1,"scale":2,"samples":[1]}`, ErrScale},
		{"bad b64 length", `{"machine":"m","sample_rate":1,"samples_b64":"AAA="}`, ErrLength},
		{"negative seq", `{"machine":"m","sample_rate":1,"seq":-1,"samples":[1]}`, ErrJSON},
		{"timestamp overflow", `{"machine":"m","sample_rate":1,"timestamp_ns":"9223372036854775808","samples":[1]}`, ErrJSON},
		{"zero rate", `{"machine":"m","sample_rate":0,"samples":[1]}`, ErrRate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f RawFrame
			if err := DecodeRawFrameJSON(&f, []byte(tc.doc)); !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
	nan := sampleFrame(Float32, 2)
	nan.Float32[1] = float32(math.NaN())
	if _, err := AppendRawFrameJSON(nil, nan); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("AppendRawFrameJSON(NaN) error = %v, want ErrNonFinite", err)
	}
}

func samplePatch(T, F int) *Patch {
	rng := rand.New(rand.NewPCG(2, 2))
	p := &Patch{
		Tag:         Tag{Machine: "fan-3", Sensor: "mic0", Band: 2, LowHz: 1000, HighHz: 2000, Frame: 1234, StartNs: 1_700_000_000_000_000_000, DurationNs: 160_000_000},
		FeatureHash: "sha256:abcd", T: T, F: F, Values: make([]float32, T*F),
	}
	for i := range p.Values {
		p.Values[i] = float32(rng.NormFloat64())
	}
	return p
}

func TestPatchRoundTrip(t *testing.T) {
	p := samplePatch(5, 128)
	b := AppendPatch(nil, p)
	if len(b) != PatchSize(p) {
		t.Fatalf("encoded %d bytes, PatchSize says %d", len(b), PatchSize(p))
	}
	var q Patch
	if err := DecodePatch(&q, b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&q, p) {
		t.Fatalf("round trip differs")
	}
	// value (t, f) is at t*F+f: check one off the diagonal.
	if q.Values[3*128+7] != p.Values[3*128+7] {
		t.Fatal("frame-major layout broken")
	}
}

func TestPatchBad(t *testing.T) {
	good := AppendPatch(nil, samplePatch(2, 3))
	shapeOff := len(good) - 4*6 - 8
	mut := func(fn func(p *Patch)) []byte {
		p := samplePatch(2, 3)
		fn(p)
		return AppendPatch(nil, p)
	}
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[shapeOff:], 1<<16)
	binary.LittleEndian.PutUint32(huge[shapeOff+4:], 1<<16)
	zero := bytes.Clone(good)
	binary.LittleEndian.PutUint32(zero[shapeOff:], 0)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic", append([]byte{'R'}, good[1:]...), ErrMagic},
		{"version", append([]byte{'P', 2}, good[2:]...), ErrVersion},
		{"truncated", good[:len(good)-3], ErrTruncated},
		{"trailing", append(bytes.Clone(good), 1, 2, 3, 4), ErrTrailing},
		{"shape 2^32", huge, ErrShape},
		{"zero T", zero, ErrShape},
		{"empty machine", mut(func(p *Patch) { p.Tag.Machine = "" }), ErrMachine},
		{"inverted band", mut(func(p *Patch) { p.Tag.LowHz = 3000 }), ErrTag},
		{"negative band", mut(func(p *Patch) { p.Tag.Band = -1 }), ErrTag},
		{"negative duration", mut(func(p *Patch) { p.Tag.DurationNs = -1 }), ErrTag},
		{"NaN value", mut(func(p *Patch) { p.Values[4] = float32(math.NaN()) }), ErrNonFinite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Patch
			if err := DecodePatch(&p, tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("DecodePatch error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAppendPanics(t *testing.T) {
	for name, fn := range map[string]func(){
		"long machine": func() { AppendRawFrame(nil, &RawFrame{Machine: strings.Repeat("m", 256), Encoding: Float32}) },
		"bad encoding": func() { AppendRawFrame(nil, &RawFrame{Machine: "m"}) },
		"patch shape":  func() { AppendPatch(nil, &Patch{T: 2, F: 2, Values: make([]float32, 3)}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			fn()
		})
	}
}

func sampleEvent() *Event {
	e := &Event{
		Machine: "pump-7", Sensor: "de", WindowStartNs: 1_700_000_000_000_000_000, WindowEndNs: 1_700_000_010_000_000_000,
		Score: 12.5, Threshold: 5, ScoreType: "mse", ModelVersion: "pump-7@3",
		Bands:       []BandScore{{Band: 3, LowHz: 2000, HighHz: 4000, Score: 30.25}, {Band: 1, LowHz: 500, HighHz: 1000, Score: 8}},
		FeatureHash: "sha256:abcd", Detector: "detect-0", Patches: 62, Consecutive: 2, DetectedAtNs: 1_700_000_010_050_000_000,
	}
	e.Complete()
	return e
}

func TestEventRoundTrip(t *testing.T) {
	e := sampleEvent()
	if e.Severity != 2.5 {
		t.Fatalf("Severity = %v, want 12.5/5 = 2.5", e.Severity)
	}
	b, err := AppendEvent(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"window_start":"2023-11-14T22:13:20Z"`)) {
		t.Fatalf("window_start not RFC 3339 UTC: %s", b)
	}
	var g Event
	if err := DecodeEvent(&g, b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&g, e) {
		t.Fatalf("round trip differs\n got %+v\nwant %+v", g, *e)
	}
}

func TestSeverity(t *testing.T) {
	for _, c := range []struct{ s, th, want float64 }{
		{12.5, 5, 2.5},   // positive threshold: score/threshold
		{5, 5, 1},        // at threshold
		{-90, -100, 1.1}, // negative threshold (negated log-evidence): 10 above a 100-wide threshold
		{-110, -100, 0.9},
	} {
		if got := Severity(c.s, c.th); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Severity(%v, %v) = %v, want %v", c.s, c.th, got, c.want)
		}
	}
}

func TestEventID(t *testing.T) {
	a := EventID("m", "s", 1, "v1")
	if len(a) != 32 || a != EventID("m", "s", 1, "v1") {
		t.Fatalf("EventID not deterministic 32 hex chars: %q", a)
	}
	for _, b := range []string{EventID("m", "s", 2, "v1"), EventID("m", "s", 1, "v2"), EventID("ms", "", 1, "v1"), EventID("m", "s1", 1, "v1")} {
		if b == a {
			t.Fatalf("EventID collision for different fields: %q", a)
		}
	}
}

func TestEventBad(t *testing.T) {
	good, _ := AppendEvent(nil, sampleEvent())
	rep := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"not json", []byte("{"), ErrJSON},
		{"trailing", append(bytes.Clone(good), '1'), ErrJSON},
		{"tampered id", rep(`"event_id":"`, `"event_id":"0`), ErrEventID},
		{"tampered start", rep(`"window_start_ns":1700000000000000000`, `"window_start_ns":1700000000000000001`), ErrJSON},
		{"empty machine", rep(`"machine":"pump-7"`, `"machine":""`), ErrMachine},
		{"zero threshold", rep(`"threshold":5`, `"threshold":0`), ErrEvent}, // severity undefined
		{"bad time", rep(`"window_end":"2023`, `"window_end":"x2023`), ErrJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Event
			if err := DecodeEvent(&e, tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("DecodeEvent error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	s := &Score{Machine: "m", Sensor: "s", WindowStartNs: 10, WindowEndNs: 20, Score: 1, Threshold: 2, ScoreType: "mse", ModelVersion: "v", Severity: 0.5, Patches: 4}
	b, err := AppendScore(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	var g Score
	if err := DecodeScore(&g, b); err != nil || !reflect.DeepEqual(&g, s) {
		t.Fatalf("round trip: %v, %+v", err, g)
	}
	s.Threshold = math.NaN()
	if _, err := AppendScore(nil, s); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN threshold error = %v", err)
	}
}

func TestReason(t *testing.T) {
	if Reason(nil) != "" || Reason(errors.New("x")) != "" {
		t.Fatal("Reason of a foreign error must be empty")
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if seen[r.reason] || Reason(errf(r.err, "ctx")) != r.reason {
			t.Fatalf("reason %q duplicate or not found", r.reason)
		}
		seen[r.reason] = true
	}
}
