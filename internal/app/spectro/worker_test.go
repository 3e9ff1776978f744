package spectro

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/streamtest"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

const rate = 8000

// testFeature is the Vibration preset at 8 kHz: n_fft 256, hop 128, 8 bands
// of 16 bins, patches of 8 frames with a hop of 4.
func testFeature(r float64) (feature.Config, error) { return feature.Vibration(r), nil }

type harness struct {
	t    testing.TB
	addr string
	cfg  stream.Config
	cl   *kgo.Client
}

func newHarness(t testing.TB, parts int32) *harness {
	t.Helper()
	addr, cfg := streamtest.Broker(t, parts)
	cfg.Group = "spectro-test"
	cfg.CommitInterval = 50 * time.Millisecond
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &harness{t: t, addr: addr, cfg: cfg, cl: cl}
}

func (h *harness) produce(key string, vals ...[]byte) {
	h.t.Helper()
	rs := make([]*kgo.Record, len(vals))
	for i, v := range vals {
		rs[i] = &kgo.Record{Topic: "mhm.raw", Key: []byte(key), Value: v}
	}
	if err := h.cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

// run starts a worker and returns a stop function.
func (h *harness) run(cfg Config) (*Worker, *prometheus.Registry, func()) {
	h.t.Helper()
	if cfg.Stream.Group == "" {
		cfg.Stream = h.cfg
	}
	if cfg.Default == nil {
		cfg.Default = testFeature
	}
	cfg.KgoOpts = []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}
	reg := prometheus.NewRegistry()
	w, err := New(cfg, zerolog.Nop(), reg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	return w, reg, func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Error(err)
			}
		})
	}
}

// read reads topic until it holds n records (or 15 s pass).
func (h *harness) read(topic string, n int) []*kgo.Record {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n && ctx.Err() == nil {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	if len(out) < n {
		h.t.Fatalf("%s: %d records, want %d", topic, len(out), n)
	}
	return out
}

func patches(t *testing.T, recs []*kgo.Record) map[string][]wire.Patch {
	t.Helper()
	out := map[string][]wire.Patch{}
	for _, r := range recs {
		var p wire.Patch
		if err := wire.DecodePatch(&p, r.Value); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != p.Tag.Machine {
			t.Fatalf("patch of %s keyed %q", p.Tag.Machine, r.Key)
		}
		k := p.Tag.Machine + "/" + p.Tag.Sensor
		out[k] = append(out[k], p)
	}
	return out
}

func signalOf(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5*math.Sin(2*math.Pi*440*float64(i)/rate) + 0.1*rng.NormFloat64())
	}
	return x
}

// frames cuts x into raw frames of size samples, seq from seq0, times from t0.
func frames(machine, sensor string, x []float32, size int, t0 int64, seq0 uint64) [][]byte {
	var out [][]byte
	for k, i := 0, 0; i < len(x); k, i = k+1, i+size {
		f := wire.RawFrame{Machine: machine, Sensor: sensor, SampleRate: rate, Encoding: wire.Float32,
			TimestampNs: t0 + patch.SamplesToNs(int64(i), rate), Seq: seq0 + uint64(k), Float32: x[i:min(i+size, len(x))]}
		out = append(out, wire.AppendRawFrame(nil, &f))
	}
	return out
}

// offline returns the patches feature.Patches computes for x; flushed says
// whether the stream's end was flushed (else only the streamed prefix:
// patches whose frames exist before the right padding).
func offline(t *testing.T, cfg feature.Config, x []float32, machine, sensor string, t0 int64, flushed bool) []*patch.Patch {
	t.Helper()
	e, err := feature.NewExtractor(cfg, machine, sensor, t0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*patch.Patch
	emit := func(p *patch.Patch) { out = append(out, p.Clone()) }
	e.Write(x, emit)
	if flushed {
		e.Flush(emit)
	}
	return out
}

func samePatches(t *testing.T, what string, got []wire.Patch, want []*patch.Patch, hash string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d patches, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if patch.Tag(g.Tag) != w.Tag || g.T != w.Frames || g.F != w.Bins || g.FeatureHash != hash {
			t.Fatalf("%s: patch %d: tag %+v %dx%d %s, want %+v %dx%d %s", what, i, g.Tag, g.T, g.F, g.FeatureHash[:8], w.Tag, w.Frames, w.Bins, hash[:8])
		}
		for j := range g.Values {
			if g.Values[j] != w.Values[j] {
				t.Fatalf("%s: patch %d value %d: %v, want %v", what, i, j, g.Values[j], w.Values[j])
			}
		}
	}
}

// TestContinuity: a stream cut into frames gives exactly the offline
// patches; a repeated or older frame is skipped; missing frames, a time
// jump, a seq restart and a rate change each end the run (flushed) and
// start a new one at the frame.
func TestContinuity(t *testing.T) {
	h := newHarness(t, 2)
	cfg := feature.Vibration(rate).WithDefaults()
	hash := cfg.Hash()
	const t0 = int64(1_700_000_000_000_000_000)
	const fs = 800 // 0.1 s frames

	// Machine a: one continuous run of 1 s, with the third frame sent twice
	// and the second sent again after the fourth.
	xa := signalOf(1, 8000)
	fa := frames("a", "s", xa, fs, t0, 0)
	seqA := append(append(append([][]byte{}, fa[:3]...), fa[2], fa[3], fa[1]), fa[4:]...)
	h.produce("a", seqA...)

	// Machine b: 0.5 s, then frame seq 6 missing (seq gap), then a time
	// jump with a contiguous seq, then a seq restart (seq 0 at a later
	// time), then a rate change.
	xb := signalOf(2, 4000)
	fb := frames("b", "s", xb, fs, t0, 0)            // seq 0..4
	xb2 := signalOf(3, 2400)                         // seq 6..8 (5 missing)
	tb2 := t0 + patch.SamplesToNs(4000+fs, rate)     // where seq 6 belongs
	fb2 := frames("b", "s", xb2, fs, tb2, 6)         //
	xb3 := signalOf(4, 1600)                         // seq 9..10, but 3 s later
	tb3 := tb2 + patch.SamplesToNs(2400, rate) + 3e9 //
	fb3 := frames("b", "s", xb3, fs, tb3, 9)         //
	xb4 := signalOf(5, 1600)                         // seq 0..1: gateway restarted
	tb4 := tb3 + patch.SamplesToNs(1600, rate) + 1e9 //
	fb4 := frames("b", "s", xb4, fs, tb4, 0)         //
	x16 := signalOf(6, 1600)                         // 16 kHz from seq 2
	tb5 := tb4 + patch.SamplesToNs(1600, rate)
	f16 := wire.RawFrame{Machine: "b", Sensor: "s", SampleRate: 16000, Encoding: wire.Float32, TimestampNs: tb5, Seq: 2, Float32: x16}
	var all [][]byte
	for _, g := range [][][]byte{fb, fb2, fb3, fb4, {wire.AppendRawFrame(nil, &f16)}} {
		all = append(all, g...)
	}
	h.produce("b", all...)

	wantA := offline(t, cfg, xa, "a", "s", t0, false)
	wantB := append(offline(t, cfg, xb, "b", "s", t0, true), offline(t, cfg, xb2, "b", "s", tb2, true)...)
	wantB = append(wantB, offline(t, cfg, xb3, "b", "s", tb3, true)...)
	wantB = append(wantB, offline(t, cfg, xb4, "b", "s", tb4, true)...)
	cfg16 := feature.Vibration(16000).WithDefaults()
	want16 := offline(t, cfg16, x16, "b", "s", tb5, false)

	_, reg, stop := h.run(Config{})
	got := patches(t, h.read("mhm.patches", len(wantA)+len(wantB)+len(want16)))
	stop()
	samePatches(t, "a", got["a/s"], wantA, hash)
	gb := got["b/s"]
	samePatches(t, "b", gb[:len(wantB)], wantB, hash)
	samePatches(t, "b at 16 kHz", gb[len(wantB):], want16, cfg16.Hash())

	for _, c := range []struct {
		m    prometheus.Collector
		want float64
	}{
		{must(reg, "mhm_spectro_frames_skipped_total", "duplicate"), 1},
		{must(reg, "mhm_spectro_frames_skipped_total", "out_of_order"), 1},
		{must(reg, "mhm_spectro_resets_total", ResetSeqGap), 1},
		{must(reg, "mhm_spectro_resets_total", ResetTimeGap), 1},
		{must(reg, "mhm_spectro_resets_total", ResetSeqRestart), 1},
		{must(reg, "mhm_spectro_resets_total", ResetRate), 1},
	} {
		if v := testutil.ToFloat64(c.m); v != c.want {
			t.Errorf("%v = %v, want %v", c.m, v, c.want)
		}
	}
}

// must returns the counter of a labelled metric family on reg.
func must(reg *prometheus.Registry, name, label string) prometheus.Collector {
	return metricOf{reg, name, label}
}

type metricOf struct {
	reg         *prometheus.Registry
	name, label string
}

func (m metricOf) Describe(ch chan<- *prometheus.Desc) {}
func (m metricOf) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := m.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != m.name {
			continue
		}
		for _, x := range mf.GetMetric() {
			for _, l := range x.GetLabel() {
				if l.GetValue() == m.label {
					ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(m.name, "", nil, nil), prometheus.CounterValue, x.GetCounter().GetValue())
					return
				}
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(m.name, "", nil, nil), prometheus.CounterValue, 0)
}
func (m metricOf) String() string { return m.name + "{" + m.label + "}" }

type fakeModels struct {
	mu  sync.Mutex
	gen uint64
	by  map[string]feature.Config
}

func (f *fakeModels) Gen() uint64 { f.mu.Lock(); defer f.mu.Unlock(); return f.gen }
func (f *fakeModels) Feature(machine, _ string) (feature.Config, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.by[machine]
	return c, ok
}

// TestBadRecordsAndModels: malformed and NaN frames go to the DLQ with their
// reason and the worker goes on; a machine with a model gets the model's
// feature configuration; another rate than the model's falls back to the
// default.
func TestBadRecordsAndModels(t *testing.T) {
	h := newHarness(t, 1)
	mcfg := feature.Vibration(rate)
	mcfg.STFT.NFFT, mcfg.STFT.Hop = 128, 64 // the model's own front end
	mcfg.STFT.FMin = rate / 128.0
	mcfg = mcfg.WithDefaults()
	if err := mcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	models := &fakeModels{gen: 1, by: map[string]feature.Config{"m": mcfg}}
	x := signalOf(7, 4000)
	good := frames("m", "s", x, 1000, 1e18, 0)
	nan := wire.RawFrame{Machine: "m", Sensor: "s", SampleRate: rate, Encoding: wire.Float32, TimestampNs: 2e18, Seq: 99, Float32: []float32{1, float32(math.NaN())}}
	nanBin := wire.AppendRawFrame(nil, &nan)
	h.produce("m", good[0], []byte("garbage"), nanBin, good[1], good[2], good[3])
	xo := signalOf(8, 3200)
	other := frames("o", "s", xo, 1600, 1e18, 0)
	h.produce("o", other...)

	_, _, stop := h.run(Config{Models: models})
	wantM := offline(t, mcfg, x, "m", "s", 1e18, false)
	dcfg := feature.Vibration(rate).WithDefaults()
	wantO := offline(t, dcfg, xo, "o", "s", 1e18, false)
	got := patches(t, h.read("mhm.patches", len(wantM)+len(wantO)))
	dlq := h.read("mhm.dlq", 2)
	stop()
	samePatches(t, "model machine", got["m/s"], wantM, mcfg.Hash())
	samePatches(t, "default machine", got["o/s"], wantO, dcfg.Hash())
	var reasons []string
	for _, r := range dlq {
		reasons = append(reasons, header(r, stream.HeaderReason))
	}
	sort.Strings(reasons)
	if strings.Join(reasons, ",") != "bad_magic,non_finite" {
		t.Fatalf("DLQ reasons %v", reasons)
	}
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestBounded: with room for 2 streams, 5 machines keep at most 2 (plus the
// one being created) and count their evictions; an idle stream is dropped.
func TestBounded(t *testing.T) {
	h := newHarness(t, 1)
	for i, m := range []string{"m0", "m1", "m2", "m3", "m4"} {
		h.produce(m, frames(m, "", signalOf(uint64(i), 800), 800, 1e18, 0)...)
	}
	w, reg, stop := h.run(Config{MaxStreams: 2})
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(must(reg, "mhm_spectro_streams_evicted_total", "lru")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := w.Streams(); n > 2 {
		t.Fatalf("%d streams held, max 2", n)
	}
	if v := testutil.ToFloat64(must(reg, "mhm_spectro_streams_evicted_total", "lru")); v != 3 {
		t.Fatalf("%v LRU evictions, want 3", v)
	}
	gathered, _ := reg.Gather()
	var names []string
	for _, mf := range gathered {
		names = append(names, mf.GetName())
	}
	if s := strings.Join(names, " "); !strings.Contains(s, "mhm_stream_records_in_total") || !strings.Contains(s, "mhm_spectro_streams") {
		t.Fatalf("metrics %s", s)
	}
}

func TestIdle(t *testing.T) {
	w := &Worker{cfg: Config{MaxStreams: 10, IdleTimeout: time.Minute}, m: NewMetrics(nil), parts: map[int32]*partition{}, defaults: map[float64]defaultCfg{}}
	ps := w.partition(0)
	now := time.Now()
	for i, k := range []streamKey{{"a", ""}, {"b", ""}, {"c", ""}} {
		s := &streamState{key: k}
		ps.streams[k] = s
		ps.lru.Push(s, now.Add(time.Duration(i)*time.Minute))
		w.count.Add(1)
	}
	ps.sweep(now.Add(2*time.Minute + time.Second)) // a is idle for 2 min, b for 1 min + 1 s, c fresh
	if _, ok := ps.streams[streamKey{"c", ""}]; !ok || len(ps.streams) != 1 || w.Streams() != 1 {
		t.Fatalf("streams after sweep: %v", ps.streams)
	}
}
