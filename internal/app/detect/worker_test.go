package detect

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/wire"
)

var win1s = threshold.WindowConfig{LengthNs: 1e9}

// learn fits the test model on normal data and its threshold the way the
// trainer does: mean + 3 sd of the window scores of normal data held out
// from the fit.
func learn(t *testing.T) (mu []float64, th float64) {
	t.Helper()
	_, train := patchRecords(t, "cal", signalOf(98, 10, fault{}), t0)
	mu = binMeans(train)
	_, ps := patchRecords(t, "cal", signalOf(99, 20, fault{}), t0)
	ref := refWindows(ps, win1s, mu)
	var ws []float64
	for _, v := range ref {
		ws = append(ws, v)
	}
	fit, err := threshold.Fit(threshold.MeanStd, ws, 3)
	if err != nil {
		t.Fatal(err)
	}
	return mu, fit.Value
}

// TestEvents: a fault in band 5 from 6 s to 10 s raises the alarm on the
// second window above the threshold (K = N = 2) and gives one event per
// alarmed window with the right machine, window, band and consecutive count;
// normal windows give none. Every closed window gets a score record equal
// to the reference. Bad patches go to the DLQ with their reason and the
// worker goes on.
func TestEvents(t *testing.T) {
	h := newHarness(t, 2)
	mu, th := learn(t)
	dir := t.TempDir()
	writeArtifact(t, dir, artifactFor(t, "m", mu, th, time.Unix(1, 0), win1s, threshold.PersistenceConfig{K: 2, N: 2}))

	recs, ps := patchRecords(t, "m", signalOf(1, 13, fault{6, 10, 2750}), t0)
	// Bad records in the middle: garbage, a machine without a model, and a
	// patch computed with another front end.
	_, other := patchRecords(t, "unknown", signalOf(2, 0.3, fault{}), t0)
	mis := ps[3]
	mis.FeatureHash = "sha256:other"
	bad := [][]byte{[]byte("nonsense"), wire.AppendPatch(nil, &other[0]), wire.AppendPatch(nil, &mis)}
	all := append(append(append([][]byte{}, recs[:400]...), bad...), recs[400:]...)
	h.produce("mhm.patches", "m", all...)

	r := h.run(Config{ModelsDir: dir})
	ref := refWindows(ps, win1s, mu)
	last := ps[len(ps)-1].Tag.StartNs
	closed := 0
	for start := range ref {
		if start+1e9 <= last {
			closed++
		}
	}
	rd := h.reader("mhm.scores", "mhm.anomalies", "mhm.dlq")
	got := rd.until("scores of every closed window and 3 DLQ records", func(rs []*kgo.Record) bool {
		n, d := 0, 0
		for _, r := range rs {
			switch r.Topic {
			case "mhm.scores":
				n++
			case "mhm.dlq":
				d++
			}
		}
		return n >= closed && d >= 3 && eventsIn(t, rs)
	})
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	// Run capped the models' products at one goroutine (Config.NNThreads).
	if prev := nn.SetThreads(0); prev != 1 {
		t.Errorf("nn threads while running: %d, want the default cap 1", prev)
	}

	scores := decodeScores(t, got, "mhm.scores")
	if len(scores) != closed {
		t.Fatalf("%d score records, want %d", len(scores), closed)
	}
	for _, s := range scores {
		want, ok := ref[s.WindowStartNs]
		if !ok || math.Abs(s.Score-want) > 1e-9*math.Abs(want) || s.WindowEndNs != s.WindowStartNs+1e9 || s.Machine != "m" || s.Sensor != "s" {
			t.Fatalf("score %+v, reference %v", s, want)
		}
	}
	evs := decodeEvents(t, got, "mhm.anomalies")
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3 (windows 7, 8, 9 s): %+v", len(evs), evs)
	}
	for i, e := range evs {
		wantStart := t0 + int64(7+i)*1e9
		if e.Machine != "m" || e.Sensor != "s" || e.WindowStartNs != wantStart || e.WindowEndNs != wantStart+1e9 {
			t.Fatalf("event %d: %s/%s [%d, %d), want window starting %d", i, e.Machine, e.Sensor, e.WindowStartNs, e.WindowEndNs, wantStart)
		}
		if e.Consecutive != i+2 || e.Threshold != th || !(e.Score > th) || e.Severity <= 1 || e.Detector != "test" || e.Patches == 0 {
			t.Fatalf("event %d: %+v", i, e)
		}
		// The top bins are the fault's: 2750 Hz is bin 88 at 31.25 Hz a
		// bin, in band 5 (bins 80-95 above DC).
		if len(e.Bands) != 3 || !(e.Bands[0].LowHz <= 2750 && 2750 <= e.Bands[0].HighHz) || e.Bands[0].Band/16 != 5 {
			t.Fatalf("event %d: top bins %+v, want the bin holding 2750 Hz first", i, e.Bands)
		}
		if e.EventID != wire.EventID("m", "s", wantStart, e.ModelVersion) {
			t.Fatal("event id")
		}
	}
	// The window that made the first above-threshold window is not an event
	// (the alarm is not raised yet), but its score record says above.
	for _, s := range scores {
		if s.WindowStartNs == t0+6e9 && (!(s.Score > th) || s.Anomalous || s.EventID != "") {
			t.Fatalf("first fault window %+v", s)
		}
		if s.WindowStartNs == t0+8e9 && (!s.Anomalous || s.EventID == "") {
			t.Fatalf("alarmed window %+v", s)
		}
	}
	var reasons []string
	for _, rec := range got {
		if rec.Topic == "mhm.dlq" {
			reasons = append(reasons, header(rec, stream.HeaderReason))
		}
	}
	sort.Strings(reasons)
	if strings.Join(reasons, ",") != "bad_magic,feature_mismatch,no_model" {
		t.Fatalf("DLQ reasons %v", reasons)
	}
	if v := gauge(r.reg, "mhm_detect_patches_rejected_total", "feature_mismatch"); v != 1 {
		t.Fatalf("mismatch counter %v", v)
	}
	if v := gauge(r.reg, "mhm_models_loaded", ""); v != 1 {
		t.Fatalf("models loaded gauge %v", v)
	}
}

// TestHotReload: a model published on the topic while the stream runs is
// used from the stream's next window on, without a restart; each window is
// decided by exactly one version, old before new.
func TestHotReload(t *testing.T) {
	h := newHarness(t, 1)
	mu, _ := learn(t)
	v1 := artifactFor(t, "m", mu, 1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{K: 1, N: 1}) // never above
	h.produce("mhm.models", "m", encoded(t, v1))
	recs, ps := patchRecords(t, "m", signalOf(3, 8, fault{}), t0)
	half := len(recs) / 2
	h.produce("mhm.patches", "m", recs[:half]...)
	r := h.run(Config{ModelsTopic: true})
	waitFor(t, "ready", func() bool { return r.w.Ready(t.Context()) == nil })
	rd := h.reader("mhm.scores", "mhm.anomalies")
	rd.until("the first windows", func(rs []*kgo.Record) bool { return len(rs) >= 3 })

	v2 := artifactFor(t, "m", mu, -1000, time.Unix(2, 0), win1s, threshold.PersistenceConfig{K: 1, N: 1}) // always above
	h.produce("mhm.models", "m", encoded(t, v2))
	waitFor(t, "v2 loaded", func() bool { return gauge(r.reg, "mhm_models_loaded", v2.Meta.Version) == 1 })
	h.produce("mhm.patches", "m", recs[half:]...)
	ref := refWindows(ps, win1s, mu)
	got := rd.until("every closed window and its event", func(rs []*kgo.Record) bool {
		return len(decodeScores(t, rs, "mhm.scores")) >= len(ref)-1 && eventsIn(t, rs)
	})
	scores := decodeScores(t, got, "mhm.scores")
	sort.Slice(scores, func(i, j int) bool { return scores[i].WindowStartNs < scores[j].WindowStartNs })
	switched := -1
	for i, s := range scores {
		if s.Score != ref[s.WindowStartNs] && math.Abs(s.Score-ref[s.WindowStartNs]) > 1e-9 {
			t.Fatalf("window %d score %v, reference %v", i, s.Score, ref[s.WindowStartNs])
		}
		switch s.ModelVersion {
		case v1.Meta.Version:
			if switched >= 0 {
				t.Fatalf("window %d decided by v1 after v2", i)
			}
			if s.Anomalous {
				t.Fatal("v1 window anomalous")
			}
		case v2.Meta.Version:
			if switched < 0 {
				switched = i
			}
			if !s.Anomalous || s.EventID == "" {
				t.Fatalf("v2 window %+v not anomalous", s)
			}
		default:
			t.Fatalf("window %d by %q", i, s.ModelVersion)
		}
	}
	// v2 arrived after window half/125 s; it takes over at most one window
	// boundary later than the first window without v1 patches.
	if switched < 0 || switched > half/125+2 {
		t.Fatalf("v2 first used at window %d (half at %d patches)", switched, half)
	}
	evs := decodeEvents(t, got, "mhm.anomalies")
	if len(evs) != len(scores)-switched {
		t.Fatalf("%d events for %d v2 windows", len(evs), len(scores)-switched)
	}
	if v := gauge(r.reg, "mhm_detect_model_switches_total", ""); v != 1 {
		t.Fatalf("switches %v", v)
	}
}

// TestGroupKill: two workers share the partitions; one is killed (its
// context cancelled with no time to drain or commit); the other takes its
// partitions, rebuilds their open windows, and every window of every
// machine is scored at least once, with the score of the whole window.
func TestGroupKill(t *testing.T) {
	h := newHarness(t, 4)
	dir := t.TempDir()
	mu, _ := learn(t)
	machines := []string{"a", "b", "c", "d", "e", "f"}
	type stream1 struct {
		recs [][]byte
		ref  map[int64]float64
		last int64
	}
	data := map[string]*stream1{}
	for i, m := range machines {
		writeArtifact(t, dir, artifactFor(t, m, mu, 1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{}))
		recs, ps := patchRecords(t, m, signalOf(uint64(10+i), 6.5, fault{}), t0)
		data[m] = &stream1{recs, refWindows(ps, win1s, mu), ps[len(ps)-1].Tag.StartNs}
	}
	// Machine i on partition i%4, so that every partition has data.
	pcl, err := kgo.NewClient(kgo.SeedBrokers(h.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	produce := func(lo, hi int) {
		var rs []*kgo.Record
		for i, m := range machines {
			for _, v := range data[m].recs[lo:min(hi, len(data[m].recs))] {
				rs = append(rs, &kgo.Record{Topic: "mhm.patches", Partition: int32(i % 4), Key: []byte(m), Value: v})
			}
		}
		if err := pcl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Phase 1: the first 3.3 s of every machine.
	// It is produced once both members hold partitions, so that the first
	// to join cannot take it all before the group settles.
	cut := 412 // patches in 3.3 s at 125/s
	cfgA := Config{ModelsDir: dir, Stream: h.cfg}
	cfgA.Stream.ShutdownTimeout = time.Nanosecond // killed: no drain, no final commit
	a := h.run(cfgA)
	b := h.run(Config{ModelsDir: dir})
	waitFor(t, "both members assigned", func() bool {
		return gauge(a.reg, "mhm_stream_assigned_partitions", "") > 0 && gauge(b.reg, "mhm_stream_assigned_partitions", "") > 0
	})
	produce(0, cut)
	rd := h.reader("mhm.scores")
	rd.until("phase 1 windows", func(rs []*kgo.Record) bool { return len(rs) >= 3*len(machines) })
	time.Sleep(200 * time.Millisecond) // let periodic commits catch up
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	if gauge(a.reg, "mhm_detect_patches_scored_total", "") == 0 {
		t.Fatal("the killed worker scored nothing: it had no partitions")
	}
	produce(cut, 1<<30)
	want := 0
	for _, d := range data {
		for start := range d.ref {
			if start+1e9 <= d.last {
				want++
			}
		}
	}
	type wk struct {
		m     string
		start int64
	}
	seen := map[wk][]float64{}
	rd.until("every window scored", func(rs []*kgo.Record) bool {
		clear(seen)
		for _, s := range decodeScores(t, rs, "mhm.scores") {
			k := wk{s.Machine, s.WindowStartNs}
			seen[k] = append(seen[k], s.Score)
		}
		return len(seen) >= want
	})
	for k, scores := range seen {
		ref := data[k.m].ref[k.start]
		for _, s := range scores {
			if math.Abs(s-ref) > 1e-9*math.Abs(ref) {
				t.Fatalf("%s window %d: score %v, the whole window's is %v (a partial window after the kill?)", k.m, (k.start-t0)/1e9, s, ref)
			}
		}
	}
	if gauge(b.reg, "mhm_detect_restored_records_total", "") == 0 {
		t.Fatal("the survivor restored nothing")
	}
}

func TestBindRejects(t *testing.T) {
	good := artifactFor(t, "m", make([]float64, 128), 1, time.Unix(1, 0), win1s, threshold.PersistenceConfig{})
	if _, err := bind(openMean)(good); err != nil {
		t.Fatal(err)
	}
	zero := *good
	zero.Meta.Threshold.Value = 0
	if _, err := bind(openMean)(&zero); err == nil {
		t.Fatal("zero threshold accepted")
	}
	badWin := *good
	badWin.Meta.Decision.Window = threshold.WindowConfig{LengthNs: 1e9, HopNs: 2e9}
	if _, err := bind(openMean)(&badWin); err == nil || !strings.Contains(err.Error(), "decision window") {
		t.Fatalf("hop > length: %v", err)
	}
	wrongDim := func(a *model.Artifact) (func() Scorer, error) {
		return func() Scorer { return meanScorer{dim: 7} }, nil
	}
	if _, err := bind(wrongDim)(good); err == nil {
		t.Fatal("scorer of another dimension accepted")
	}
	if _, err := bind(DefaultOpen)(good); !errors.Is(err, model.ErrFormat) {
		t.Fatalf("weights that are not a network: %v", err)
	}
	b, _ := bind(openMean)(good)
	if b.bands != 8 || b.bins != 128 || len(b.binLo) != 128 || b.window.LengthNs != 1e9 || b.window.HopNs != 1e9 || b.window.Features != 128 || b.window.TopFeatures != 3 {
		t.Fatalf("binding %+v", b)
	}
}

func TestFirstEnd(t *testing.T) {
	c := threshold.WindowConfig{LengthNs: 10, HopNs: 5}
	for _, tc := range []struct{ t, want int64 }{{0, 5}, {4, 5}, {5, 10}, {9, 10}, {10, 15}, {-1, 0}} {
		if got := firstEnd(c, tc.t); got != tc.want {
			t.Errorf("firstEnd(%d) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

// TestEarlyDecision drives the handler directly (no broker): a tumbling
// window is decided by the last patch inside it, since the patch grid says
// the next one starts after its end; a straggler from before that end is
// skipped, not scored into a new copy of the decided window.
func TestEarlyDecision(t *testing.T) {
	sc := stream.DefaultConfig()
	sc.Brokers, sc.Group = []string{"127.0.0.1:1"}, "early" // never dialled
	w, err := New(Config{Stream: sc, ModelsDir: t.TempDir(), Open: openMean, Detector: "test"}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mu, _ := learn(t)
	if err := w.cat.AddArtifact("test", artifactFor(t, "m", mu, 1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{}), "test"); err != nil {
		t.Fatal(err)
	}
	recs, ps := patchRecords(t, "m", signalOf(7, 2.5, fault{}), t0)
	in := func(i int) []*kgo.Record {
		out, err := w.Handle(t.Context(), &kgo.Record{Topic: sc.Topics.Patches, Value: recs[i]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	step := ps[8].Tag.StartNs - ps[0].Tag.StartNs // 8 bands per position
	decidedAt := -1
	for i := range ps {
		out := in(i)
		if len(out) > 0 {
			decidedAt = i
			break
		}
	}
	last := ps[decidedAt].Tag
	if last.Band != 7 || last.StartNs >= t0+1e9 || last.StartNs+step < t0+1e9 {
		t.Fatalf("window 0 decided at patch %d (band %d, start %d ns after t0), want the last band of the last position in it", decidedAt, last.Band, last.StartNs-t0)
	}
	// A straggler inside the decided window (e.g. a spectro restart with
	// an overlap) is skipped.
	straggler := ps[decidedAt-8]
	straggler.Tag.StartNs = last.StartNs + 1
	if out, err := w.Handle(t.Context(), &kgo.Record{Topic: sc.Topics.Patches, Value: wire.AppendPatch(nil, &straggler)}, nil); err != nil || len(out) != 0 {
		t.Fatalf("straggler: %v, %d outputs", err, len(out))
	}
	if v := testutil.ToFloat64(w.m.Skipped.WithLabelValues("duplicate")); v != 1 {
		t.Fatalf("skipped %v, want 1", v)
	}
}

// TestPublishLarge: the DCASE autoencoder's artifact is larger than the
// broker's default 1 MB message limit; publish raises the models topic's
// max.message.bytes and the catalog of a worker loads it from the topic.
func TestPublishLarge(t *testing.T) {
	h := newHarness(t, 1)
	m, err := ae.NewModel(ae.DCASE2020())
	if err != nil {
		t.Fatal(err)
	}
	wts, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	a := &model.Artifact{Meta: model.Meta{Machine: "fan-1", Kind: model.DenseAE, Feature: feature.DCASE2020(), Created: time.Unix(1, 0),
		Threshold: threshold.Threshold{Method: threshold.Quantile, Param: 0.99, Value: 10}}, Weights: wts}
	path := filepath.Join(t.TempDir(), "fan-1.mhm")
	if err := a.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() <= 1048588 {
		t.Fatalf("artifact of %d bytes is not above the default limit", st.Size())
	}
	var out bytes.Buffer
	code := Program().Main(t.Context(), []string{"publish", "-brokers", h.addr, path}, &out, &out)
	if code != 0 || !strings.Contains(out.String(), "raised mhm.models max.message.bytes") {
		t.Fatalf("publish: exit %d: %s", code, out.String())
	}
	r := h.run(Config{ModelsTopic: true, Open: DefaultOpen})
	waitFor(t, "the model loaded from the topic", func() bool { return gauge(r.reg, "mhm_models_loaded", a.Meta.Version) == 1 })
	waitFor(t, "ready", func() bool { return r.w.Ready(t.Context()) == nil })
	// A tombstone withdraws it.
	if code := Program().Main(t.Context(), []string{"publish", "-brokers", h.addr, "--delete", "fan-1"}, &out, &out); code != 0 {
		t.Fatalf("publish --delete: exit %d: %s", code, out.String())
	}
	waitFor(t, "the model withdrawn", func() bool { return gauge(r.reg, "mhm_models_loaded", "") == 0 })
}
