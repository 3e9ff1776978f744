package pipeline

import (
	"bytes"
	"context"
	"math"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect"
	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/internal/app/spectro"
	"github.com/mhmstream/mhm/internal/streamtest"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

type fixture struct {
	t    *testing.T
	addr string
	sc   stream.Config
	cl   *kgo.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	addr, sc := streamtest.Broker(t, 2)
	sc.CommitInterval = 100 * time.Millisecond
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &fixture{t: t, addr: addr, sc: sc, cl: cl}
}

func (f *fixture) publish(a *model.Artifact) {
	f.t.Helper()
	b, err := a.Encode()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := detect.Publish(context.Background(), f.cl, f.sc.Topics.Models, []*kgo.Record{{Topic: f.sc.Topics.Models, Key: []byte(a.Meta.Machine), Value: b}}, true, &bytes.Buffer{}); err != nil {
		f.t.Fatal(err)
	}
}

// run starts the stages in one process and waits until they are ready.
func (f *fixture) run(cfg Config) (*Stages, *prometheus.Registry, net.Listener) {
	f.t.Helper()
	fast := []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	cfg.Stream, cfg.Ingest, cfg.IngestListener = f.sc, &ingest.Config{}, ln
	cfg.Spectro.KgoOpts, cfg.Detect.KgoOpts = fast, fast
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testLog(f.t), reg)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Error(err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for s.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			f.t.Fatalf("not ready: %v", s.Ready(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, reg, ln
}

// collect reads scores, events and DLQ records until cond holds (or 30 s).
type collected struct {
	scores []wire.Score
	events []wire.Event
	dlq    []string // reasons
}

func (f *fixture) collect(cond func(*collected) bool) *collected {
	f.t.Helper()
	rd, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ConsumeTopics(f.sc.Topics.Scores, f.sc.Topics.Anomalies, f.sc.Topics.DLQ),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		f.t.Fatal(err)
	}
	defer rd.Close()
	c := &collected{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !cond(c) {
		if ctx.Err() != nil {
			f.t.Fatalf("timed out: %d scores, %d events, DLQ %v", len(c.scores), len(c.events), c.dlq)
		}
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			switch r.Topic {
			case f.sc.Topics.Scores:
				var s wire.Score
				if err := wire.DecodeScore(&s, r.Value); err != nil {
					f.t.Fatal(err)
				}
				c.scores = append(c.scores, s)
			case f.sc.Topics.Anomalies:
				var e wire.Event
				if err := wire.DecodeEvent(&e, r.Value); err != nil {
					f.t.Fatal(err)
				}
				c.events = append(c.events, e)
			default:
				for _, h := range r.Headers {
					if h.Key == stream.HeaderReason {
						c.dlq = append(c.dlq, string(h.Value))
					}
				}
			}
		})
		pcancel()
	}
	return c
}

func metricSum(reg *prometheus.Registry, name, stage string) float64 {
	mfs, _ := reg.Gather()
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" && l.GetValue() == stage {
					v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return v
}

// TestStagesHotReloadAndDLQ runs the three stages in one process (as the
// demo does): bad raw records and a machine without a model end in the DLQ
// with their reasons while the pipeline goes on; a new model version
// published on mhm.models while the stream runs decides the stream's
// windows from the next window boundary on, without a restart.
func TestStagesHotReloadAndDLQ(t *testing.T) {
	f := newFixture(t)
	v1 := pressModel(t)
	f.publish(v1)
	_, reg, ln := f.run(Config{
		Spectro: spectro.Config{ModelsTopic: true, Default: func(r float64) (feature.Config, error) { return feature.Vibration(r), nil }},
		Detect:  detect.Config{ModelsTopic: true, Detector: "stages"},
	})
	url := "http://" + ln.Addr().String() + "/v1/frames"

	// Bad records straight onto the raw topic (past ingest's checks): garbage
	// and a NaN-filled frame; then a machine nobody trained a model for.
	nan := wire.RawFrame{Machine: "press-4", Sensor: "acc", SampleRate: rate, Encoding: wire.Float32, TimestampNs: 1, Seq: 1 << 40,
		Float32: []float32{float32(math.NaN()), float32(math.NaN())}}
	for _, v := range [][]byte{[]byte("garbage"), wire.AppendRawFrame(nil, &nan)} {
		if err := f.cl.ProduceSync(context.Background(), &kgo.Record{Topic: f.sc.Topics.Raw, Key: []byte("press-4"), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	ghost, _ := machineSignal(9, 1, [2]float64{})
	writeWAV(t, filepath.Join(dir, "ghost.wav"), ghost)
	if _, err := ingest.Replay(context.Background(), ingest.ReplayConfig{Machine: "ghost", FrameMs: 100, StartNs: 1e18},
		[]string{filepath.Join(dir, "ghost.wav")}, &ingest.HTTPSink{URL: url}); err != nil {
		t.Fatal(err)
	}

	// Part 1 under v1: 8 s with a fault from 3 s to 6 s.
	const t0 = int64(1_900_000_000_000_000_000)
	p1, _ := machineSignal(4, 8, [2]float64{3, 6})
	writeWAV(t, filepath.Join(dir, "p1.wav"), p1)
	sum, err := ingest.Replay(context.Background(), ingest.ReplayConfig{Machine: "press-4", Sensor: "acc", FrameMs: 100, StartNs: t0},
		[]string{filepath.Join(dir, "p1.wav")}, &ingest.HTTPSink{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	f.collect(func(c *collected) bool { return len(c.scores) >= 7 })

	// v2: the same network with a threshold no window reaches.
	v2 := *v1
	v2.Meta.Threshold.Value *= 100
	v2.Meta.Created = v1.Meta.Created.Add(time.Minute)
	f.publish(&v2)
	deadline := time.Now().Add(20 * time.Second)
	for metricSum(reg, "mhm_model_changes_total", "detect") < 2 || metricSum(reg, "mhm_model_changes_total", "spectro") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("v2 not loaded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Part 2, continuing the stream: the same fault pattern.
	p2, _ := machineSignal(5, 8, [2]float64{3, 6})
	writeWAV(t, filepath.Join(dir, "p2.wav"), p2)
	if _, err := ingest.Replay(context.Background(), ingest.ReplayConfig{Machine: "press-4", Sensor: "acc", FrameMs: 100, StartNs: sum.EndNs, Seq: sum.NextSeq},
		[]string{filepath.Join(dir, "p2.wav")}, &ingest.HTTPSink{URL: url}); err != nil {
		t.Fatal(err)
	}
	c := f.collect(func(c *collected) bool {
		n := 0
		for _, s := range c.scores {
			if s.Machine == "press-4" {
				n++
			}
		}
		return n >= 15 && len(c.dlq) >= 3
	})
	sort.Slice(c.scores, func(i, j int) bool { return c.scores[i].WindowStartNs < c.scores[j].WindowStartNs })
	for _, s := range c.scores {
		sec := (s.WindowStartNs - t0) / 1e9
		want := v1.Meta.Version
		if sec >= 8 {
			want = v2.Meta.Version
		}
		if s.ModelVersion != want {
			t.Errorf("window %d s decided by %s, want %s", sec, s.ModelVersion, want)
		}
		if sec >= 11 && sec < 14 && !(s.Score > v1.Meta.Threshold.Value) {
			t.Errorf("part 2 fault window %d s: score %v not above v1's threshold (the fault is there)", sec, s.Score)
		}
	}
	for _, e := range c.events {
		sec := (e.WindowStartNs - t0) / 1e9
		if e.ModelVersion != v1.Meta.Version || sec < 3 || sec > 6 {
			t.Errorf("event for window %d s by %s", sec, e.ModelVersion)
		}
	}
	if len(c.events) < 2 {
		t.Errorf("%d events in part 1's fault", len(c.events))
	}
	reasons := strings.Join(c.dlq, ",")
	for _, r := range []string{"bad_magic", "non_finite", "no_model"} {
		if !strings.Contains(reasons, r) {
			t.Errorf("DLQ reasons %s: no %s", reasons, r)
		}
	}
	if metricSum(reg, "mhm_stream_records_in_total", "spectro") == 0 || metricSum(reg, "mhm_detect_model_switches_total", "detect") != 1 {
		t.Errorf("metrics by stage: spectro in %v, detect switches %v", metricSum(reg, "mhm_stream_records_in_total", "spectro"), metricSum(reg, "mhm_detect_model_switches_total", "detect"))
	}
}

// TestMismatch: spectro computes its own front end (it does not follow the
// models), which differs from the model's: detect refuses every patch with
// reason feature_mismatch instead of scoring it.
func TestMismatch(t *testing.T) {
	f := newFixture(t)
	f.publish(pressModel(t))
	_, reg, ln := f.run(Config{
		Spectro: spectro.Config{Default: func(r float64) (feature.Config, error) {
			c := feature.Vibration(r)
			c.Patch.Hop = 2 // not the model's patches
			return c, nil
		}},
		Detect: detect.Config{ModelsTopic: true},
	})
	dir := t.TempDir()
	pcm, _ := machineSignal(6, 2, [2]float64{})
	writeWAV(t, filepath.Join(dir, "m.wav"), pcm)
	if _, err := ingest.Replay(context.Background(), ingest.ReplayConfig{Machine: "press-4", Sensor: "acc", FrameMs: 100, StartNs: 1e18},
		[]string{filepath.Join(dir, "m.wav")}, &ingest.HTTPSink{URL: "http://" + ln.Addr().String() + "/v1/frames"}); err != nil {
		t.Fatal(err)
	}
	c := f.collect(func(c *collected) bool { return len(c.dlq) >= 100 })
	for _, r := range c.dlq {
		if r != "feature_mismatch" {
			t.Fatalf("DLQ reason %q", r)
		}
	}
	if len(c.scores) != 0 || metricSum(reg, "mhm_detect_patches_scored_total", "detect") != 0 {
		t.Fatalf("%d windows scored from mismatched patches", len(c.scores))
	}
}
