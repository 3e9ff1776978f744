package detect

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/wire"
)

// TestIdleFlush: a machine stops sending half-way through its third window.
// Within flush-after (plus the check period) that window is decided on the
// patches it holds, exactly as a patch after its end would have decided it:
// its score record with the mean of those patches and, since every window
// is above the threshold and the third raises the alarm (3 of 3), its event
// with the deterministic event_id. A straggler inside the flushed window is
// skipped and counted; a patch of a later window opens it afresh and it is
// flushed in turn (one patch, alarm still raised: an event with
// consecutive 4).
func TestIdleFlush(t *testing.T) {
	h := newHarness(t, 1)
	dir := t.TempDir()
	mu, _ := learn(t)
	a := artifactFor(t, "m", mu, -1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{K: 3, N: 3}) // always above
	writeArtifact(t, dir, a)
	recs, ps := patchRecords(t, "m", signalOf(3, 2.5, fault{}), t0)
	// The reference: the whole stream pushed, then flushed.
	agg := threshold.NewWindowAggregator(win1s)
	sc := newMeanScorer(mu)
	one := make([]float64, 1)
	ref := map[int64]threshold.Window{}
	for _, p := range ps {
		sc.Score(one, nil, p.Values, []int{p.Tag.Band}, 1)
		for _, w := range agg.Push(p.Tag.StartNs, one[0], nil) {
			ref[w.StartNs] = w
		}
	}
	for _, w := range agg.Flush() {
		ref[w.StartNs] = w
	}
	if len(ref) != 3 || ref[t0+2e9].Patches == 0 {
		t.Fatalf("reference windows %v", ref)
	}

	const flushAfter = 300 * time.Millisecond
	r := h.run(Config{ModelsDir: dir, FlushAfter: flushAfter})
	rd := h.reader("mhm.scores", "mhm.anomalies")
	h.produce("mhm.patches", "m", recs...)
	produced := time.Now()
	got := rd.until("the last window's score and event", func(rs []*kgo.Record) bool {
		return len(decodeScores(t, rs, "mhm.scores")) >= 3 && len(decodeEvents(t, rs, "mhm.anomalies")) >= 1
	})
	took := time.Since(produced)
	scores := decodeScores(t, got, "mhm.scores")
	evs := decodeEvents(t, got, "mhm.anomalies")
	if len(scores) != 3 || len(evs) != 1 {
		t.Fatalf("%d scores, %d events; want 3 and 1", len(scores), len(evs))
	}
	for _, s := range scores {
		w := ref[s.WindowStartNs]
		if s.Patches != w.Patches || math.Abs(s.Score-w.Score) > 1e-9*math.Abs(w.Score) || s.WindowEndNs != w.EndNs {
			t.Fatalf("score %+v, reference window %+v", s, w)
		}
	}
	last := scores[2]
	ev := evs[0]
	wantID := wire.EventID("m", "s", t0+2e9, a.Meta.Version)
	if last.WindowStartNs != t0+2e9 || !last.Anomalous || last.EventID != wantID || ev.EventID != wantID ||
		ev.WindowStartNs != t0+2e9 || ev.Consecutive != 3 || ev.Patches != ref[t0+2e9].Patches {
		t.Fatalf("last window: score %+v, event %+v, want event_id %s", last, ev, wantID)
	}
	// Within flush-after, one check period (flush-after/4) and slack for a
	// shared machine.
	if took > flushAfter+flushAfter/4+2*time.Second {
		t.Fatalf("last window decided %v after the last patch was produced, flush-after is %v", took, flushAfter)
	}
	if v := testutil.ToFloat64(r.w.m.Flushed); v != 1 {
		t.Fatalf("%v windows flushed, want 1", v)
	}

	// A straggler: the next position of the last band, still inside the
	// flushed window.
	lastP := ps[len(ps)-1]
	step := lastP.Tag.StartNs - ps[len(ps)-9].Tag.StartNs
	straggler := lastP
	straggler.Tag.StartNs += step
	if straggler.Tag.StartNs >= t0+3e9 {
		t.Fatal("the straggler is not inside the flushed window")
	}
	// A patch of the next window.
	next := lastP
	next.Tag.StartNs = t0 + 3e9 + 1e8
	h.produce("mhm.patches", "m", wire.AppendPatch(nil, &straggler), wire.AppendPatch(nil, &next))
	got = rd.until("the next window, flushed", func(rs []*kgo.Record) bool {
		return len(decodeScores(t, rs, "mhm.scores")) >= 4 && len(decodeEvents(t, rs, "mhm.anomalies")) >= 2
	})
	scores = decodeScores(t, got, "mhm.scores")
	evs = decodeEvents(t, got, "mhm.anomalies")
	if len(scores) != 4 || scores[3].WindowStartNs != t0+3e9 || scores[3].Patches != 1 || evs[1].Consecutive != 4 {
		t.Fatalf("after the straggler: scores %+v, events %+v", scores, evs)
	}
	if v := testutil.ToFloat64(r.w.m.Skipped.WithLabelValues("duplicate")); v != 1 {
		t.Fatalf("%v patches skipped, want the straggler", v)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestFlushGuard drives a partition's idle flush directly (no broker): a
// stream silent for flush-after of wall time is flushed only when the
// partition is caught up (no record beyond the last handled) or when a
// record handled since was produced flush-after or more after the stream's
// last one; a worker that merely stalled with the stream's patches still
// waiting flushes nothing.
func TestFlushGuard(t *testing.T) {
	sc := stream.DefaultConfig()
	sc.Brokers, sc.Group = []string{"127.0.0.1:1"}, "guard" // never dialled
	w, err := New(Config{Stream: sc, ModelsDir: t.TempDir(), Open: openMean, Detector: "test", FlushAfter: time.Second}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mu, _ := learn(t)
	if err := w.cat.AddArtifact("test", artifactFor(t, "m", mu, 1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{}), "test"); err != nil {
		t.Fatal(err)
	}
	recs, _ := patchRecords(t, "m", signalOf(5, 0.5, fault{}), t0) // half of window 0
	produced := time.Unix(1_800_000_000, 0)
	for i, v := range recs {
		if _, err := w.Handle(t.Context(), &kgo.Record{Topic: sc.Topics.Patches, Offset: int64(i), Value: v, Timestamp: produced}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ps := w.partition(0)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	now := time.Now()
	for _, c := range []struct {
		what     string
		at       time.Duration
		caughtUp bool
	}{
		{"not silent for flush-after yet, caught up", 500 * time.Millisecond, true},
		{"silent, records waiting, none produced later", 3 * time.Second, false},
	} {
		if out := ps.flushIdle(now.Add(c.at), c.caughtUp); len(out) != 0 {
			t.Fatalf("%s: flushed (%d outputs)", c.what, len(out))
		}
	}
	// Another machine's record produced 1.5 s after the stream's last one
	// (here one that does not even decode: the partition's clock moves all
	// the same).
	ps.mu.Unlock()
	_, _ = w.Handle(t.Context(), &kgo.Record{Topic: sc.Topics.Patches, Offset: int64(len(recs)), Value: []byte("x"), Timestamp: produced.Add(1500 * time.Millisecond)}, nil)
	ps.mu.Lock()
	out := ps.flushIdle(now.Add(3*time.Second), false)
	if len(out) != 1 || out[0].Topic != sc.Topics.Scores || !out[0].Timestamp.Equal(produced) {
		t.Fatalf("the input moved 1.5 s past the silent stream: %d outputs, want its window's score record stamped with its last patch's time", len(out))
	}
	var s wire.Score
	if err := wire.DecodeScore(&s, out[0].Value); err != nil || s.WindowStartNs != t0 || s.Patches != len(recs) {
		t.Fatalf("flushed score %+v (%v), want window 0 with %d patches", s, err, len(recs))
	}
	if out := ps.flushIdle(now.Add(4*time.Second), true); len(out) != 0 {
		t.Fatalf("flushed twice: %d outputs", len(out))
	}
}

// TestFlushThenSwitch: a new model version arrives after the idle flush
// decided a stream's window under the old one. A late patch of that window
// neither re-opens it nor triggers the switch (skipped, counted); the next
// window's first patch switches, and that window is decided by the new
// version.
func TestFlushThenSwitch(t *testing.T) {
	sc := stream.DefaultConfig()
	sc.Brokers, sc.Group = []string{"127.0.0.1:1"}, "switch" // never dialled
	w, err := New(Config{Stream: sc, ModelsDir: t.TempDir(), Open: openMean, Detector: "test", FlushAfter: time.Second}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mu, _ := learn(t)
	v1 := artifactFor(t, "m", mu, 1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{})
	v2 := artifactFor(t, "m", mu, 2000, time.Unix(2, 0), win1s, threshold.PersistenceConfig{})
	if err := w.cat.AddArtifact("v1", v1, "test"); err != nil {
		t.Fatal(err)
	}
	recs, ps := patchRecords(t, "m", signalOf(6, 0.5, fault{}), t0)
	handle := func(i int, v []byte) []*kgo.Record {
		t.Helper()
		out, err := w.Handle(t.Context(), &kgo.Record{Topic: sc.Topics.Patches, Offset: int64(i), Value: v}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for i, v := range recs {
		handle(i, v)
	}
	part := w.partition(0)
	flushed := func() []wire.Score {
		t.Helper()
		part.mu.Lock()
		defer part.mu.Unlock()
		out := part.flushIdle(time.Now().Add(2*time.Second), true)
		scores := decodeScores(t, out, sc.Topics.Scores)
		if len(scores) != len(out) {
			t.Fatalf("%d outputs, %d score records", len(out), len(scores))
		}
		return scores
	}
	if s := flushed(); len(s) != 1 || s[0].WindowStartNs != t0 || s[0].ModelVersion != v1.Meta.Version {
		t.Fatalf("first flush: %+v", s)
	}
	if err := w.cat.AddArtifact("v2", v2, "test"); err != nil {
		t.Fatal(err)
	}
	last := ps[len(ps)-1]
	late := last
	late.Tag.StartNs += last.Tag.StartNs - ps[len(ps)-9].Tag.StartNs // next position, still in window 0
	if out := handle(len(recs), wire.AppendPatch(nil, &late)); len(out) != 0 {
		t.Fatalf("late patch: %d outputs", len(out))
	}
	if sk, sw := testutil.ToFloat64(w.m.Skipped.WithLabelValues("duplicate")), testutil.ToFloat64(w.m.Switches); sk != 1 || sw != 0 {
		t.Fatalf("late patch: %v skipped, %v switches; want 1 and 0", sk, sw)
	}
	next := last
	next.Tag.StartNs = t0 + 1e9 + 1e8
	handle(len(recs)+1, wire.AppendPatch(nil, &next))
	if sw := testutil.ToFloat64(w.m.Switches); sw != 1 {
		t.Fatalf("%v switches after the next window's patch, want 1", sw)
	}
	if s := flushed(); len(s) != 1 || s[0].WindowStartNs != t0+1e9 || s[0].ModelVersion != v2.Meta.Version || s[0].Patches != 1 {
		t.Fatalf("second flush: %+v, want window 1 by %s with 1 patch", s, v2.Meta.Version)
	}
}

// TestFlushAfterHandOver: a worker takes every patch of a machine that
// stops mid-window and commits them, but dies before its idle flush (here:
// it would flush only after an hour). The next owner rebuilds the open
// window from the records before the committed offset and its idle flush
// decides it on all its patches: the decision is not lost with the worker.
func TestFlushAfterHandOver(t *testing.T) {
	h := newHarness(t, 1)
	dir := t.TempDir()
	mu, _ := learn(t)
	writeArtifact(t, dir, artifactFor(t, "m", mu, 1000, time.Unix(1, 0), win1s, threshold.PersistenceConfig{}))
	recs, ps := patchRecords(t, "m", signalOf(8, 2.5, fault{}), t0)
	inLast := 0
	for _, p := range ps {
		if p.Tag.StartNs >= t0+2e9 {
			inLast++
		}
	}
	killed := h.cfg
	killed.ShutdownTimeout = time.Nanosecond // no drain, no final commit
	a := h.run(Config{Stream: killed, ModelsDir: dir, FlushAfter: time.Hour})
	rd := h.reader("mhm.scores")
	h.produce("mhm.patches", "m", recs...)
	rd.until("windows 0 and 1", func(rs []*kgo.Record) bool { return len(rs) >= 2 })
	time.Sleep(200 * time.Millisecond) // let periodic commits catch up
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	b := h.run(Config{ModelsDir: dir, FlushAfter: 300 * time.Millisecond})
	got := decodeScores(t, rd.until("window 2", func(rs []*kgo.Record) bool { return len(rs) >= 3 }), "mhm.scores")
	if len(got) != 3 || got[2].WindowStartNs != t0+2e9 || got[2].Patches != inLast {
		t.Fatalf("scores %+v, want window 2 with its %d patches last", got, inLast)
	}
	if gauge(b.reg, "mhm_detect_restored_records_total", "") != float64(len(recs)) {
		t.Fatalf("restored %v records, want %d", gauge(b.reg, "mhm_detect_restored_records_total", ""), len(recs))
	}
}
