package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect"
	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/internal/app/spectro"
	"github.com/mhmstream/mhm/internal/streamtest"
	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/wire"
)

const rate = 8000

// fcfg is the front end of the test machine: the vibration preset at 8 kHz
// (31.25 Hz bins, 8 bands of 500 Hz, patches of 8 frames × 16 bins every
// 64 ms: 125 patches per second).
var fcfg = feature.Vibration(rate).WithDefaults()

// machineSignal is a machine at 8 kHz: a 440 Hz tone, its second harmonic
// and noise, plus from fault[0] to fault[1] s a 2750 Hz tone (band 5). It is
// quantised to 16-bit PCM as a recorder would: pcm holds the WAV samples, x
// the values the reader gives back.
func machineSignal(seed uint64, seconds float64, fault [2]float64) (pcm []int16, x []float32) {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := int(seconds * rate)
	pcm, x = make([]int16, n), make([]float32, n)
	for i := range x {
		t := float64(i) / rate
		v := 0.25*math.Sin(2*math.Pi*440*t) + 0.08*math.Sin(2*math.Pi*880*t+1) + 0.05*rng.NormFloat64()
		if t >= fault[0] && t < fault[1] {
			v += 0.15 * math.Sin(2*math.Pi*2750*t)
		}
		pcm[i] = int16(max(-32768, min(32767, math.Round(v*32768))))
		x[i] = float32(pcm[i]) / 32768
	}
	return pcm, x
}

func writeWAV(t *testing.T, path string, x []int16) {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*len(x)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*len(x)))
	binary.Write(&b, le, x)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var window1s = threshold.WindowConfig{LengthNs: 1e9}

// trainModel fits a small dense autoencoder on the patches of normal (the
// stream's front end), then learns the threshold and the per-bin baseline
// on the separate normal recording calib exactly as a detector scores:
// the artifact opened with model.Open, its Scorer, 1 s windows of the mean
// patch score, threshold = mean + 3 sd of the calibration window scores.
func trainModel(t *testing.T, machine string, normal, calib []float32) *model.Artifact {
	t.Helper()
	flat := func(x []float32) ([]float32, []int, []int64) {
		ps, err := feature.Patches(fcfg, x, machine, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var v []float32
		var bands []int
		var times []int64
		for _, p := range ps {
			v = append(v, p.Values...)
			bands = append(bands, p.Band)
			times = append(times, p.StartNs)
		}
		return v, bands, times
	}
	dim := fcfg.Dim()
	x, _, _ := flat(normal)
	cfg := ae.Defaults(ae.Dense, fcfg.Patch.Frames, fcfg.Patch.Bins)
	cfg.Hidden, cfg.Code, cfg.Seed = []int{64, 32}, 8, 1
	m, _, err := ae.Train(cfg, x, len(x)/dim, dim, &nn.FitConfig{Epochs: 40, BatchSize: 128, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	a := &model.Artifact{Meta: model.Meta{Machine: machine, Kind: model.DenseAE, Feature: fcfg, Created: time.Now().UTC(),
		Score:     model.ScoreSpec{Type: model.ScoreMSE},
		Threshold: threshold.Threshold{Method: threshold.MeanStd, Param: 3, Value: 1},
		Decision:  model.Decision{Window: window1s, Persistence: threshold.PersistenceConfig{K: 2, N: 2}}}, Weights: w}
	if _, err := a.Encode(); err != nil {
		t.Fatal(err)
	}
	l, err := model.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	cx, cb, ct := flat(calib)
	n := len(cb)
	scores, pf := make([]float64, n), make([]float32, n*dim)
	l.NewScorer().Score(scores, pf, cx, cb, n)
	bins := fcfg.Bins()
	sum, cnt := make([]float64, bins), make([]float64, bins)
	agg := threshold.NewWindowAggregator(window1s)
	var ws []float64
	for i := 0; i < n; i++ {
		for f := 0; f < fcfg.Patch.Bins; f++ {
			var s float64
			for tt := 0; tt < fcfg.Patch.Frames; tt++ {
				s += float64(pf[i*dim+tt*fcfg.Patch.Bins+f])
			}
			k := cb[i]*fcfg.Patch.BinHop + f
			sum[k] += s / float64(fcfg.Patch.Frames)
			cnt[k]++
		}
		for _, win := range agg.Push(ct[i], scores[i], nil) {
			ws = append(ws, win.Score)
		}
	}
	th, err := threshold.Fit(threshold.MeanStd, ws, 3)
	if err != nil {
		t.Fatal(err)
	}
	a.Meta.Threshold = th
	a.Meta.BinBaseline = make([]float64, bins)
	for k := range sum {
		a.Meta.BinBaseline[k] = sum[k] / cnt[k]
	}
	if _, err := a.Encode(); err != nil {
		t.Fatal(err)
	}
	t.Logf("model %s: threshold %v on %d calibration windows", a.Meta.Version, th, len(ws))
	return a
}

var (
	pressOnce sync.Once
	pressArt  []byte
)

// pressModel is the model of machine press-4, trained once per test binary
// on 15 s of its normal signal, its threshold learned on 20 s more.
func pressModel(t *testing.T) *model.Artifact {
	t.Helper()
	pressOnce.Do(func() {
		_, normal := machineSignal(1, 15, [2]float64{})
		_, calib := machineSignal(2, 20, [2]float64{})
		pressArt, _ = trainModel(t, "press-4", normal, calib).Encode()
	})
	a, err := model.Decode(pressArt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testLog(t *testing.T) zerolog.Logger {
	if os.Getenv("MHM_TEST_LOG") != "" {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

// TestEndToEnd replays a recording of a machine with an injected fault
// through ingest (HTTP) → spectro → detect, three separate worker
// instances on the embedded broker over TCP, with a model trained on the
// machine's normal signal and distributed through the models topic. The
// fault (2750 Hz, seconds 6 to 10) must give events for the windows inside
// it, with the machine, the 1 s windows and the fault's frequency among the
// top bins; the normal windows must give none.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, sc := streamtest.Broker(t, 3)
	sc.CommitInterval = 100 * time.Millisecond
	fast := []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}
	log := testLog(t)

	a := pressModel(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	art, _ := a.Encode()
	if err := detect.Publish(ctx, cl, sc.Topics.Models, []*kgo.Record{{Topic: sc.Topics.Models, Key: []byte("press-4"), Value: art}}, true, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}

	// Three workers, each its own instance with its own client and group.
	ing, err := ingest.New(ingest.Config{Stream: sc}, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ssc := sc
	ssc.Group = "mhm-spectro"
	spec, err := spectro.New(spectro.Config{Stream: ssc, ModelsTopic: true, KgoOpts: fast,
		Default: func(r float64) (feature.Config, error) { return feature.DCASE2020(), nil }}, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	dsc := sc
	dsc.Group = "mhm-detect"
	// The idle flush decides the last window (15 s) once the recording
	// has ended: 500 ms of silence, as a machine that stops would give.
	det, err := detect.New(detect.Config{Stream: dsc, ModelsTopic: true, Detector: "e2e", KgoOpts: fast,
		FlushAfter: 500 * time.Millisecond}, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithCancel(ctx)
	errc := make(chan error, 3)
	go func() { errc <- ing.Run(wctx, ln) }()
	go func() { errc <- spec.Run(wctx) }()
	go func() { errc <- det.Run(wctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for det.Ready(ctx) != nil || spec.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("workers not ready: detect %v, spectro %v", det.Ready(ctx), spec.Ready(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The recording: 16 s, fault from 6 s to 10 s, replayed at full speed
	// through the HTTP API in 100 ms frames.
	pcm, _ := machineSignal(3, 16, [2]float64{6, 10})
	wav := filepath.Join(t.TempDir(), "press-4.wav")
	writeWAV(t, wav, pcm)
	const t0 = int64(1_800_000_000_000_000_000)
	sum, err := ingest.Replay(ctx, ingest.ReplayConfig{Machine: "press-4", Sensor: "acc", FrameMs: 100, StartNs: t0},
		[]string{wav}, &ingest.HTTPSink{URL: "http://" + ln.Addr().String() + "/v1/frames"})
	if err != nil || sum.Frames != 160 {
		t.Fatalf("replay: %v (%+v)", err, sum)
	}

	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(sc.Topics.Scores, sc.Topics.Anomalies, sc.Topics.DLQ),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var scores []wire.Score
	var events []wire.Event
	var dlq int
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	for len(scores) < 16 && rctx.Err() == nil { // windows 0-14 close on patches, 15 by the idle flush
		rd.PollFetches(rctx).EachRecord(func(r *kgo.Record) {
			switch r.Topic {
			case sc.Topics.Scores:
				var s wire.Score
				if err := wire.DecodeScore(&s, r.Value); err != nil {
					t.Fatal(err)
				}
				scores = append(scores, s)
			case sc.Topics.Anomalies:
				var e wire.Event
				if err := wire.DecodeEvent(&e, r.Value); err != nil {
					t.Fatal(err)
				}
				events = append(events, e)
			default:
				dlq++
			}
		})
	}
	wcancel()
	for range 3 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	sort.Slice(scores, func(i, j int) bool { return scores[i].WindowStartNs < scores[j].WindowStartNs })
	for _, s := range scores {
		t.Logf("window %2d s: score %8.4f (threshold %.4f) anomalous %v", (s.WindowStartNs-t0)/1e9, s.Score, s.Threshold, s.Anomalous)
	}
	if len(scores) != 16 || dlq != 0 {
		t.Fatalf("%d windows scored (want 16), %d dead letters", len(scores), dlq)
	}
	for i, s := range scores {
		if got := (s.WindowStartNs - t0) / 1e9; got != int64(i) {
			t.Fatalf("score %d is window %d s, want every window 0-15 once", i, got)
		}
	}
	above := map[int64]bool{}
	for _, s := range scores {
		sec := (s.WindowStartNs - t0) / 1e9
		above[sec] = s.Score > s.Threshold
		if s.ModelVersion != a.Meta.Version || s.Machine != "press-4" || s.Sensor != "acc" {
			t.Fatalf("score %+v", s)
		}
	}
	// Every fault window is above the threshold; no normal window raises the
	// alarm (windows 5 and 10 hold patches whose analysis windows reach a
	// few tens of ms into the fault: either verdict is right for them).
	for _, s := range scores {
		sec := (s.WindowStartNs - t0) / 1e9
		if sec >= 6 && sec < 10 && !above[sec] {
			t.Errorf("fault window %d s not above the threshold", sec)
		}
		if (sec < 5 || sec > 10) && s.Anomalous {
			t.Errorf("normal window %d s raised the alarm", sec)
		}
	}
	// K = N = 2: the alarm rises with the second window above; from then on
	// every window above gives an event.
	got := map[int64]wire.Event{}
	for _, e := range events {
		got[(e.WindowStartNs-t0)/1e9] = e
	}
	for sec, e := range got {
		if sec < 6 || sec > 10 {
			t.Errorf("event for window %d s, outside the fault", sec)
		}
		if e.Machine != "press-4" || e.Sensor != "acc" || e.WindowEndNs-e.WindowStartNs != 1e9 || e.Detector != "e2e" ||
			e.ModelVersion != a.Meta.Version || !(e.Severity > 1) {
			t.Errorf("event %+v", e)
		}
		ok := false
		for _, bs := range e.Bands {
			ok = ok || bs.LowHz <= 2750 && 2750 <= bs.HighHz
		}
		if !ok || e.Bands[0].Band/16 != 5 {
			t.Errorf("window %d s: top bins %+v do not point at 2750 Hz in band 5", sec, e.Bands)
		}
		if prev, ok := got[sec-1]; ok && e.Consecutive != prev.Consecutive+1 || e.Consecutive < 2 {
			t.Errorf("window %d s: consecutive %d", sec, e.Consecutive)
		}
	}
	for _, sec := range []int64{7, 8, 9} {
		if _, ok := got[sec]; !ok {
			t.Errorf("no event for window %d s", sec)
		}
	}
}
