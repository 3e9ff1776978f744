package demo

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/wire"
)

func TestRelTime(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		long bool
		want string
	}{
		{0, false, "+00:00.0"},
		{31e9, false, "+00:31.0"},
		{165_250_000_000, false, "+02:45.3"}, // tenths rounded half up
		{-2e9, false, "-00:02.0"},
		{3600e9 + 61e9, true, "+1:01:01"},
		{9100e9, true, "+2:31:40"},
	} {
		if got := relTime(tc.ns, tc.long); got != tc.want {
			t.Errorf("relTime(%d, %v) = %q, want %q", tc.ns, tc.long, got, tc.want)
		}
	}
}

// ev makes an event of window [start, start+1) s with the given
// consecutive count and top bands (lo, hi pairs).
func ev(start int64, consec int, sev float64, bands ...float64) wire.Event {
	e := wire.Event{Machine: "m", WindowStartNs: start * 1e9, WindowEndNs: (start + 1) * 1e9, Consecutive: consec, Severity: sev,
		Score: sev, Threshold: 1}
	for i := 0; i+1 < len(bands); i += 2 {
		e.Bands = append(e.Bands, wire.BandScore{LowHz: bands[i], HighHz: bands[i+1]})
	}
	e.EventID = wire.EventID(e.Machine, "", e.WindowStartNs, "v")
	return e
}

func TestEpisodes(t *testing.T) {
	// Two alarms in contiguous windows (3,4,5 then 9,10) and, with gaps
	// between the windows (snapshots), one alarm of three events counted 3,
	// 4, 5 and a new one counted 3 again. Given out of order.
	evs := []wire.Event{ev(10, 4, 1), ev(3, 3, 1), ev(4, 4, 1), ev(9, 3, 1), ev(5, 5, 1), ev(100, 3, 1), ev(110, 4, 1), ev(120, 5, 1), ev(140, 3, 1)}
	eps := episodes(evs)
	var got [][]int64
	for _, ep := range eps {
		var s []int64
		for _, e := range ep {
			s = append(s, e.WindowStartNs/1e9)
		}
		got = append(got, s)
	}
	want := [][]int64{{3, 4, 5}, {9, 10}, {100, 110, 120}, {140}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("episodes %v, want %v", got, want)
	}
}

func TestJudgeFleet(t *testing.T) {
	const origin = int64(1000e9)
	at := func(s int64) int64 { return origin + s*1e9 }
	u := &unit{ID: "fan-01", Kind: "fan", Faults: []truth{{Fault: "wear", StartNs: at(30), VisibleNs: at(35), Detectable: true}}}
	// A false alarm at 10-12 s (before the onset), then an alarm raised by
	// the window [30, 31) s, the first to end after the onset at 30 s.
	u.Events = []wire.Event{ev(1010, 3, 1.2, 100, 200), ev(1011, 4, 1.3), ev(1030, 3, 1.5, 2000, 2100), ev(1031, 4, 2), ev(1032, 5, 9, 900, 1000)}
	u.Meta.Threshold.Value = 1
	r := judgeFleet(u, origin)
	if r.FalseAlarms != 1 || r.Alarms != 2 {
		t.Errorf("false alarms %d of %d alarms, want 1 of 2", r.FalseAlarms, r.Alarms)
	}
	if !r.Detected || r.At != 31*time.Second || r.Delay != time.Second || r.DelayVisible != -4*time.Second || r.TopBand != "2000-2100 Hz" {
		t.Errorf("detection %+v", r)
	}
	if r.Peak != 9 || r.Events != 5 {
		t.Errorf("peak %g, events %d", r.Peak, r.Events)
	}

	healthy := &unit{ID: "pump-02", Events: []wire.Event{ev(1050, 3, 1.1)}}
	if r := judgeFleet(healthy, origin); r.FalseAlarms != 1 || r.Detected || r.Fault != "" {
		t.Errorf("healthy machine with an alarm: %+v", r)
	}
	hidden := &unit{ID: "fan-06", Faults: []truth{{Fault: "imbalance", StartNs: at(70)}}}
	if r := judgeFleet(hidden, origin); r.Detectable || r.Detected || r.Visible != -1 || missedText(r) != "-" || detectText(r) != "no (not expected)" {
		t.Errorf("hidden fault: %+v", r)
	}
	missed := &unit{ID: "gearbox-03", Faults: []truth{{Fault: "ball", StartNs: at(40), VisibleNs: at(45), Detectable: true}}}
	if r := judgeFleet(missed, origin); r.Detected || missedText(r) != "YES" {
		t.Errorf("missed fault: %+v", r)
	}
}

func TestLastDecided(t *testing.T) {
	s := &specStore{}
	for _, p := range []int64{0, 200, 400, 900, 1100, 1300, 1950} { // ms
		s.emit(nil2(p * 1e6))
	}
	// Tumbling 1 s windows: the last patch (1.95 s) sits in [1, 2), still
	// open; [0, 1) is decided.
	if got := s.lastDecided(1e9, 0); got != 1e9 {
		t.Errorf("tumbling 1 s: %d, want 1e9", got)
	}
	// 0.5 s windows: [1.5, 2) open; [1.0, 1.5) holds 1.1 and 1.3: decided.
	if got := s.lastDecided(5e8, 5e8); got != 15e8 {
		t.Errorf("tumbling 0.5 s: %d, want 1.5e9", got)
	}
	// Snapshots with gaps: patches at 0-60 ms of every 10 s, windows of
	// 100 ms: the window of the last snapshot stays open, the one before is
	// decided although the windows between are empty.
	g := &specStore{}
	for k := int64(0); k < 5; k++ {
		for _, o := range []int64{0, 20, 40, 60} {
			g.emit(nil2(k*10e9 + o*1e6))
		}
	}
	if got := g.lastDecided(1e8, 0); got != 30e9+1e8 {
		t.Errorf("snapshots: %d, want %d", got, int64(30e9+1e8))
	}
	// Hopping windows of 1 s every 0.5 s: the last patch at 1.95 s closes
	// every window ending at or before it: [0.5, 1.5).
	if got := s.lastDecided(1e9, 5e8); got != 15e8 {
		t.Errorf("hopping: %d, want 1.5e9", got)
	}
	if got := (&specStore{}).lastDecided(1e9, 0); got != 0 {
		t.Errorf("no patch: %d", got)
	}
}

func TestSpecStoreColumnsAndTap(t *testing.T) {
	cfg := feature.Vibration(8000)
	s, err := newSpecStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u := &unit{ID: "m", spec: s}
	sink := &countSink{}
	tp := &tap{next: sink, u: u}
	const t0 = int64(1_700_000_000e9)
	x := make([]float32, 800) // 0.1 s at 8 kHz
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	send := func(ts int64, seq uint64) {
		f := wire.RawFrame{Machine: "m", SampleRate: 8000, TimestampNs: ts, Seq: seq, Encoding: wire.Float32, Float32: x}
		if err := tp.Send(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
	}
	send(t0, 0)
	send(t0+1e8, 1)    // contiguous
	send(t0+10e9, 2)   // a gap: a new run
	send(t0+10.1e9, 3) // contiguous
	if sink.n != 4 {
		t.Fatalf("%d frames passed on", sink.n)
	}
	if u.FirstNs != t0 || u.EndNs != t0+10.2e9 || u.Samples != 3200 {
		t.Errorf("first %d end %d samples %d", u.FirstNs-t0, u.EndNs-t0, u.Samples)
	}
	// Two runs of 1600 samples, hop 128, centred: each gives 1 + 1600/128
	// = 13 frames once flushed; the second run is not flushed yet (a
	// continuous stream never is), so it has 13 − 1 frames so far.
	frames := s.frames()
	if frames != 13+12 {
		t.Errorf("%d frames, want 25", frames)
	}
	if s.times[0] != t0 || s.times[13] != t0+10e9 {
		t.Errorf("run starts at %d and %d", s.times[0]-t0, s.times[13]-t0)
	}
	// Columns over the 10.2 s: 51 columns of 0.2 s; column 0 holds the
	// first run's frames 0-12 (0 to 0.192 s... up to 0.2 s), the empty
	// columns of the gap repeat the last filled one.
	vals, dt := s.columns(t0, t0+10.2e9, 51)
	if dt != 2e8 || len(vals) != 51*s.bins {
		t.Fatalf("columns: dt %d, %d values", dt, len(vals))
	}
	for f := 0; f < s.bins; f++ {
		var mean float64
		n := 0
		for i, tt := range s.times {
			if tt < t0+2e8 {
				mean += float64(s.values[i*s.bins+f])
				n++
			}
		}
		mean /= float64(n)
		if d := math.Abs(float64(vals[f]) - mean); d > 1e-4 {
			t.Fatalf("column 0 bin %d: %g, want the mean %g", f, vals[f], mean)
		}
		if vals[10*s.bins+f] != vals[f] {
			t.Fatalf("a gap column does not repeat the last filled one")
		}
	}
	if v, _ := s.columns(t0+20e9, t0+30e9, 10); v != nil {
		t.Errorf("columns of an empty range: %d values", len(v))
	}
	// shownUntil: a window ending inside the gap, or where the run ends
	// (its last frame, once flushed, is centred on its end), is shown until
	// the next run.
	if got := s.shownUntil(t0 + 3e8); got != t0+10e9 {
		t.Errorf("shownUntil in the gap: %d", got-t0)
	}
	if got := s.shownUntil(t0 + 2e8); got != t0+10e9 || s.times[12] != t0+192e6 {
		t.Errorf("shownUntil at the end of the first run: %d (its last frame at %d)", got-t0, s.times[12]-t0)
	}
	// Inside a run, the next frame: frames are centred every 128/8000 s =
	// 16 ms, so after 0.1 s comes 0.112 s.
	if got := s.shownUntil(t0 + 1e8); got != t0+112e6 {
		t.Errorf("shownUntil inside a run: %d", got-t0)
	}
}

type countSink struct{ n int }

func (c *countSink) Send(context.Context, *wire.RawFrame) error { c.n++; return nil }
func (c *countSink) Flush(context.Context) error                { return nil }

func TestPacer(t *testing.T) {
	// A stream may run at most lead ahead of the slowest other one; a
	// stream alone (the others done) runs free. The second case hung
	// before: slowest (MaxInt64) + lead overflowed.
	p := newPacer(3, time.Second, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.wait(ctx, 0, 1e9); err != nil {
		t.Fatalf("within the lead: %v", err)
	}
	blocked := make(chan error, 1)
	go func() { blocked <- p.wait(ctx, 0, 3e9) }()
	select {
	case err := <-blocked:
		t.Fatalf("stream 0 ran 3 s ahead of the others: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.at(1, 15e8)
	p.done(2)
	select {
	case err := <-blocked:
		t.Fatalf("stream 0 went on to 3 s with stream 1 at 1.5 s: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.at(1, 2e9)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	p.done(1)
	if err := p.wait(ctx, 0, 1e15); err != nil {
		t.Fatalf("alone, stream 0 must run free: %v", err)
	}
	// Cancellation wakes a waiting stream.
	q := newPacer(2, time.Second, 0)
	cctx, ccancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); ccancel() }()
	if err := q.wait(cctx, 0, 10e9); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestClusters(t *testing.T) {
	bands := []wire.BandScore{{LowHz: 5060, HighHz: 5310}, {LowHz: 5183, HighHz: 5439}, {LowHz: 2123, HighHz: 2228}}
	want := [][2]float64{{5060, 5439}, {2123, 2228}}
	if got := clusters(bands); !reflect.DeepEqual(got, want) {
		t.Errorf("clusters %v, want %v", got, want)
	}
	// Linear bins that tile merge; the most anomalous range comes first.
	tiled := []wire.BandScore{{LowHz: 8450, HighHz: 8550}, {LowHz: 2350, HighHz: 2450}, {LowHz: 8350, HighHz: 8450}}
	if got := clusters(tiled); !reflect.DeepEqual(got, [][2]float64{{8350, 8550}, {2350, 2450}}) {
		t.Errorf("tiled clusters %v", got)
	}
	// An alarm: 8 events at 5.1 kHz, 3 of them also at 2.1 kHz, 1 at 300 Hz:
	// the 300 Hz range (1 of 8 < 1/4) is left out.
	var ep []wire.Event
	for i := range 8 {
		b := []float64{5060, 5310}
		if i < 3 {
			b = append(b, 2123, 2228)
		}
		if i == 7 {
			b = append(b, 250, 350)
		}
		ep = append(ep, ev(int64(i), 3+i, 2, b...))
	}
	if got := episodeBands(ep); !reflect.DeepEqual(got, [][2]float64{{5060, 5310}, {2123, 2228}}) {
		t.Errorf("episode bands %v", got)
	}
}

func TestFitSummaryAndLineFilter(t *testing.T) {
	out := "trained dense-ae (26520 parameters) for 10 epochs in 3.2s: loss 1.30131 -> 0.839996, validation 0.846569 (lowest 0.846569 at epoch 10; the last epoch is kept)\n" +
		"threshold mean-std(k=4) = 0.886192 (n=40, mean=0.839, sd=0.0118) on 40 calibration windows (mean of 1s, 15968 patches)\n" +
		"wrote x.mhm: bearing-04@8a23cff0f45b, features d8ecad49bc54, total 3.3s\n"
	if got, want := fitSummary(out, 3300*time.Millisecond), "dense-ae (26520 parameters) for 10 epochs in 3.2s; threshold mean-std(k=4) = 0.886192; 3.3 s"; got != want {
		t.Errorf("fitSummary = %q, want %q", got, want)
	}
	var lines []string
	lf := &lineFilter{fn: func(s string) { lines = append(lines, s) }}
	lf.Write([]byte("epoch 1/2  train 3\nepo"))
	lf.Write([]byte("ch 2/2\r  \npartial"))
	lf.flush()
	if want := []string{"epoch 1/2  train 3", "epoch 2/2", "partial"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

func TestShortArgs(t *testing.T) {
	base := "/r"
	args := []string{"--machine", "fan-01", "--out", "/r/models/fan-01.mhm", "--calibrate", "/r/work/fan-01/healthy-02.wav",
		"/r/work/fan-01/healthy-00.wav", "/r/work/fan-01/healthy-01.wav"}
	want := "--machine fan-01 --out models/fan-01.mhm --calibrate work/fan-01/healthy-02.wav work/fan-01/<training clips>"
	if got := strings.Join(shortArgs(args, base), " "); got != want {
		t.Errorf("shortArgs = %q, want %q", got, want)
	}
}

func TestFindFEMTO(t *testing.T) {
	root := t.TempDir()
	bearing := filepath.Join(root, "femto", "Learning_set", "Bearing2_1")
	if err := os.MkdirAll(bearing, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bearing, "acc_00001.csv"), []byte("8,14,15,8.8441e+05,-0.391,0.011\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &lockedWriter{w: &syncBuffer{}}
	for _, d := range []string{root, filepath.Join(root, "femto"), bearing} {
		got, err := findFEMTO(d, "Bearing2_1", t.TempDir(), out)
		if err != nil || got != bearing {
			t.Errorf("findFEMTO(%s) = %q, %v; want %s", d, got, err, bearing)
		}
	}
	if _, err := findFEMTO(t.TempDir(), "Bearing2_1", t.TempDir(), out); !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "femto.tar.xz") {
		t.Errorf("a folder without data: %v", err)
	}
	if _, err := findFEMTO(root, "Bearing9_9", t.TempDir(), out); err == nil {
		t.Errorf("an absent bearing was found")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Machines: -1}, "machines"},
		{Options{Machines: 61}, "machines"},
		{Options{Healthy: time.Second}, "healthy lead"},
		{Options{Duration: 2*time.Minute + time.Second}, "duration"},
		{Options{Speed: -1}, "speed"},
		{Options{Frame: 5 * time.Second}, "frame"},
		{Options{Epochs: -3}, "epochs"},
	} {
		tc.o.defaults()
		err := tc.o.validate()
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.o, err, tc.want)
		}
	}
	def := Options{Machines: 6, Healthy: 2 * time.Minute, Duration: 10 * time.Minute, Frame: time.Second}
	if err := def.checkFlags(); err != nil {
		t.Errorf("the flags' defaults: %v", err)
	}
	if err := (Options{}).checkFlags(); !errors.Is(err, ErrOptions) {
		t.Errorf("zero flags: %v", err)
	}
}

// nil2 is a patch that starts at start ns (all emit looks at).
func nil2(start int64) *patch.Patch {
	p := &patch.Patch{}
	p.StartNs = start
	return p
}
