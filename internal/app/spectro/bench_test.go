package spectro

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/wire"
)

// BenchmarkWorker: 20 sensors × 10 s of 16 kHz audio in 0.5 s frames,
// already on the raw topic, through the worker with the DCASE front end
// (one op = the whole backlog); reports sensor-seconds per second.
func BenchmarkWorker(b *testing.B) {
	const sensors, seconds, frame = 20, 30, 8000
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, frame)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, 6)
		var recs []*kgo.Record
		for f := 0; f < seconds*16000/frame; f++ {
			for s := 0; s < sensors; s++ {
				fr := wire.RawFrame{Machine: "m" + string(rune('a'+s)), SampleRate: 16000, Encoding: wire.Float32, TimestampNs: int64(f) * 5e8, Seq: uint64(f), Float32: x}
				recs = append(recs, &kgo.Record{Topic: "mhm.raw", Key: []byte(fr.Machine), Value: wire.AppendRawFrame(nil, &fr)})
			}
		}
		if err := h.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		cfg := h.cfg
		cfg.Concurrency = 2
		reg := prometheus.NewRegistry()
		w, err := New(Config{Stream: cfg, Default: func(float64) (feature.Config, error) { return feature.DCASE2020(), nil }}, zerolog.Nop(), reg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		for testutil.ToFloat64(w.m.Frames) == 0 { // group joined, first frame in
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		start := time.Now()
		for testutil.ToFloat64(w.m.Frames) < float64(len(recs)) {
			time.Sleep(time.Millisecond)
		}
		el := time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(float64(sensors*seconds)/el.Seconds(), "sensor-s/s")
	}
}
