package detect

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/streamtest"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/wire"
)

// meanScorer is the test double of a model's scorer, a spectral template:
// each value's contribution is its deviation from the mean of its
// spectrogram bin on normal data (mu, stored as the artifact's weights), and
// a patch's score is the mean of its contributions. It is deterministic per
// patch whatever the batch, so a window's score can be computed
// independently of the worker, which is what the stream mechanics tests
// need. The pipeline test with a trained autoencoder is in the pipeline
// package.
type meanScorer struct {
	dim, f, binHop int
	mu             []float64 // per spectrogram bin
}

func (s meanScorer) InputDim() int { return s.dim }
func (s meanScorer) Score(scores []float64, perFeature []float32, x []float32, bands []int, n int) {
	for i := 0; i < n; i++ {
		base := 0
		if bands != nil {
			base = bands[i] * s.binHop
		}
		var sum float64
		for j, v := range x[i*s.dim : (i+1)*s.dim] {
			d := float64(v) - s.mu[base+j%s.f]
			sum += d
			if perFeature != nil {
				perFeature[i*s.dim+j] = float32(d)
			}
		}
		scores[i] = sum / float64(s.dim)
	}
}

func newMeanScorer(mu []float64) meanScorer {
	return meanScorer{dim: fcfg.Dim(), f: fcfg.Patch.Bins, binHop: fcfg.Patch.BinHop, mu: mu}
}

func openMean(a *model.Artifact) (func() Scorer, error) {
	mu := make([]float64, len(a.Weights)/8)
	for i := range mu {
		mu[i] = math.Float64frombits(binary.LittleEndian.Uint64(a.Weights[8*i:]))
	}
	if len(mu) != a.Meta.Feature.Bins() || a.Meta.Feature.Hash() != fcfg.Hash() {
		return nil, errors.New("test model: weights are not one mean per bin of the test front end")
	}
	return func() Scorer { return newMeanScorer(mu) }, nil
}

// binMeans fits the test model: the mean value of each spectrogram bin.
func binMeans(ps []wire.Patch) []float64 {
	mu := make([]float64, fcfg.Bins())
	n := make([]float64, len(mu))
	f := fcfg.Patch.Bins
	for _, p := range ps {
		for j, v := range p.Values {
			k := p.Tag.Band*fcfg.Patch.BinHop + j%f
			mu[k] += float64(v)
			n[k]++
		}
	}
	for i := range mu {
		mu[i] /= n[i]
	}
	return mu
}

const rate = 8000

var t0 = int64(1_700_000_000_000_000_000) // a whole second: windows align with it

var fcfg = feature.Vibration(rate).WithDefaults() // 8 bands of 500 Hz; 125 patches/s

// signalOf is a machine: a 440 Hz tone and noise, plus, from fault.from to
// fault.to seconds, a tone at fault.hz (band 5 for 2750 Hz).
type fault struct{ from, to, hz float64 }

func signalOf(seed uint64, seconds float64, f fault) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, int(seconds*rate))
	for i := range x {
		t := float64(i) / rate
		v := 0.5*math.Sin(2*math.Pi*440*t) + 0.1*rng.NormFloat64()
		if t >= f.from && t < f.to {
			v += 0.3 * math.Sin(2*math.Pi*f.hz*t)
		}
		x[i] = float32(v)
	}
	return x
}

// patchRecords returns the encoded patches of x (as spectro computes them)
// and their scores under meanScorer.
func patchRecords(t *testing.T, machine string, x []float32, start int64) ([][]byte, []wire.Patch) {
	t.Helper()
	ps, err := feature.Patches(fcfg, x, machine, "s", start)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	var wps []wire.Patch
	for _, p := range ps {
		wp := wire.Patch{Tag: wire.Tag(p.Tag), FeatureHash: fcfg.Hash(), T: p.Frames, F: p.Bins, Values: p.Values}
		recs = append(recs, wire.AppendPatch(nil, &wp))
		wps = append(wps, wp)
	}
	return recs, wps
}

// refWindows is what the detector must decide for patches ps: the window
// scores of threshold's aggregator over meanScorer's patch scores.
func refWindows(ps []wire.Patch, wc threshold.WindowConfig, mu []float64) map[int64]float64 {
	agg := threshold.NewWindowAggregator(wc)
	out := map[int64]float64{}
	s := newMeanScorer(mu)
	sc := make([]float64, 1)
	for _, p := range ps {
		s.Score(sc, nil, p.Values, []int{p.Tag.Band}, 1)
		for _, w := range agg.Push(p.Tag.StartNs, sc[0], nil) {
			out[w.StartNs] = w.Score
		}
	}
	return out
}

// artifactFor makes the artifact of machine's model with the test front end.
func artifactFor(t *testing.T, machine string, mu []float64, th float64, created time.Time, win threshold.WindowConfig, pers threshold.PersistenceConfig) *model.Artifact {
	t.Helper()
	var w []byte
	for _, v := range mu {
		w = binary.LittleEndian.AppendUint64(w, math.Float64bits(v))
	}
	a := &model.Artifact{Meta: model.Meta{Machine: machine, Kind: model.DenseAE, Feature: fcfg, Created: created,
		Score:     model.ScoreSpec{Type: "mean-db"},
		Threshold: threshold.Threshold{Method: threshold.MeanStd, Param: 3, Value: th},
		Decision:  model.Decision{Window: win, Persistence: pers}}, Weights: w}
	if _, err := a.Encode(); err != nil {
		t.Fatal(err)
	}
	return a
}

func writeArtifact(t *testing.T, dir string, a *model.Artifact) string {
	t.Helper()
	p := filepath.Join(dir, a.Meta.Machine+".mhm")
	if err := a.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func encoded(t *testing.T, a *model.Artifact) []byte {
	t.Helper()
	b, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type harness struct {
	t    *testing.T
	addr string
	cfg  stream.Config
	cl   *kgo.Client
}

func newHarness(t *testing.T, parts int32) *harness {
	t.Helper()
	addr, cfg := streamtest.Broker(t, parts)
	cfg.Group = "detect-test"
	cfg.CommitInterval = 50 * time.Millisecond
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchMaxBytes(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &harness{t: t, addr: addr, cfg: cfg, cl: cl}
}

func (h *harness) produce(topic, key string, vals ...[]byte) {
	h.t.Helper()
	rs := make([]*kgo.Record, len(vals))
	for i, v := range vals {
		rs[i] = &kgo.Record{Topic: topic, Key: []byte(key), Value: v}
	}
	if err := h.cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

type running struct {
	w    *Worker
	reg  *prometheus.Registry
	stop func() error
}

func (h *harness) run(cfg Config) *running {
	h.t.Helper()
	if cfg.Stream.Group == "" {
		cfg.Stream = h.cfg
	}
	if cfg.Open == nil {
		cfg.Open = openMean
	}
	cfg.ModelsPoll = 20 * time.Millisecond
	if cfg.FlushAfter == 0 {
		// The stream-mechanics tests count the windows closed by patches
		// exactly, so a slow machine must not let the idle flush add the
		// last open one; TestIdleFlush turns it on.
		cfg.FlushAfter = -1
	}
	cfg.Detector = "test"
	cfg.KgoOpts = append(cfg.KgoOpts, kgo.FetchMaxWait(50*time.Millisecond), kgo.HeartbeatInterval(100*time.Millisecond))
	reg := prometheus.NewRegistry()
	log := zerolog.Nop()
	if os.Getenv("MHM_TEST_LOG") != "" {
		log = zerolog.New(zerolog.NewTestWriter(h.t)).Level(zerolog.DebugLevel)
	}
	w, err := New(cfg, log, reg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var rerr error
	r := &running{w: w, reg: reg, stop: func() error {
		once.Do(func() { cancel(); rerr = <-done })
		return rerr
	}}
	h.t.Cleanup(func() { r.stop() })
	return r
}

// reader follows a topic from the start.
type reader struct {
	t   *testing.T
	cl  *kgo.Client
	got []*kgo.Record
}

func (h *harness) reader(topics ...string) *reader {
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.addr), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cl.Close)
	return &reader{t: h.t, cl: cl}
}

// until polls until cond holds for the records read so far (or 20 s).
func (r *reader) until(what string, cond func([]*kgo.Record) bool) []*kgo.Record {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond(r.got) {
		if ctx.Err() != nil {
			r.t.Fatalf("timed out waiting for %s (%d records read)", what, len(r.got))
		}
		pctx, pc := context.WithTimeout(ctx, 200*time.Millisecond)
		r.got = append(r.got, r.cl.PollFetches(pctx).Records()...)
		pc()
	}
	return r.got
}

func decodeScores(t *testing.T, recs []*kgo.Record, topic string) []wire.Score {
	t.Helper()
	var out []wire.Score
	for _, r := range recs {
		if r.Topic != topic {
			continue
		}
		var s wire.Score
		if err := wire.DecodeScore(&s, r.Value); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// eventsIn reports whether every score record in rs that announced an
// event (EventID set) has its event in rs too: scores and events go to
// different topics and may arrive in either order.
func eventsIn(t *testing.T, rs []*kgo.Record) bool {
	t.Helper()
	want := 0
	for _, s := range decodeScores(t, rs, "mhm.scores") {
		if s.EventID != "" {
			want++
		}
	}
	return len(decodeEvents(t, rs, "mhm.anomalies")) >= want
}

func decodeEvents(t *testing.T, recs []*kgo.Record, topic string) []wire.Event {
	t.Helper()
	var out []wire.Event
	for _, r := range recs {
		if r.Topic != topic {
			continue
		}
		var e wire.Event
		if err := wire.DecodeEvent(&e, r.Value); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != e.Machine {
			t.Fatalf("event of %s keyed %q", e.Machine, r.Key)
		}
		out = append(out, e)
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// gauge returns the value of a metric (summed over its series with the
// given label value, or all series when label is "").
func gauge(reg *prometheus.Registry, name, label string) float64 {
	mfs, _ := reg.Gather()
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := label == ""
			for _, l := range m.GetLabel() {
				ok = ok || l.GetValue() == label
			}
			if !ok {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			}
		}
	}
	return v
}
