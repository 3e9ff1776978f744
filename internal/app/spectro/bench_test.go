package spectro

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/sim"
	"github.com/mhmstream/mhm/pkg/stream"
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

// BenchmarkHandle is spectro's handler without Kafka: one op is one 0.5 s
// frame of 16 kHz audio from a simulated fan through the DCASE front end
// (about 16 patches of 640 values). Its allocations are the outputs: each
// patch's encoded value and its record, which kgo holds until the broker
// acknowledges them; the STFT state allocates nothing.
func BenchmarkHandle(b *testing.B) {
	sc := stream.DefaultConfig()
	sc.Brokers, sc.Group = []string{"127.0.0.1:1"}, "bench" // never dialled
	w, err := New(Config{Stream: sc, Default: func(float64) (feature.Config, error) { return feature.DCASE2020(), nil }}, zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	fan, _ := sim.New(sim.Preset(sim.Fan), 1)
	x := make([]float32, 8000)
	fan.Read(x)
	fr := wire.RawFrame{Machine: "fan", SampleRate: 16000, Encoding: wire.Float32, Float32: x}
	rec := &kgo.Record{Topic: sc.Topics.Raw}
	out := make([]*kgo.Record, 0, 32)
	patches := 0
	b.ReportAllocs()
	b.SetBytes(int64(wire.RawFrameSize(&fr)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fr.Seq, fr.TimestampNs = uint64(i), int64(i)*5e8
		rec.Value = wire.AppendRawFrame(rec.Value[:0], &fr)
		if out, err = w.Handle(b.Context(), rec, out[:0]); err != nil {
			b.Fatal(err)
		}
		patches += len(out)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*0.5/b.Elapsed().Seconds(), "sensor-s/s")
	b.ReportMetric(float64(patches)/float64(b.N), "patches/op")
}

// BenchmarkRestore: the rebuild of one assigned partition with the default
// -restore-records: 2 000 raw records before the committed offset (20
// sensors × 100 frames of 0.1 s at 16 kHz, float32) re-read from the broker
// and re-handled with the DCASE front end, emitting nothing. One op is the
// whole rebuild; reports records and sensor-seconds per second.
func BenchmarkRestore(b *testing.B) {
	const sensors, frames, frame = 20, 100, 1600
	h := newHarness(b, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, frame)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	var recs []*kgo.Record
	for f := 0; f < frames; f++ {
		for s := 0; s < sensors; s++ {
			fr := wire.RawFrame{Machine: "m" + string(rune('a'+s)), SampleRate: 16000, Encoding: wire.Float32, TimestampNs: int64(f) * 1e8, Seq: uint64(f), Float32: x}
			recs = append(recs, &kgo.Record{Topic: "mhm.raw", Key: []byte(fr.Machine), Value: wire.AppendRawFrame(nil, &fr)})
		}
	}
	if err := h.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "mhm.raw", Partition: 0, At: int64(len(recs)), LeaderEpoch: -1})
	if err := kadm.NewClient(h.cl).CommitAllOffsets(context.Background(), h.cfg.Group, offs); err != nil {
		b.Fatal(err)
	}
	w, err := New(Config{Stream: h.cfg, Default: func(float64) (feature.Config, error) { return feature.DCASE2020(), nil }}, zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.dropPartition(0)
		if err := w.restore(context.Background(), []int32{0}); err != nil {
			b.Fatal(err)
		}
		if n := w.Streams(); n != sensors {
			b.Fatalf("%d streams rebuilt, want %d", n, sensors)
		}
	}
	b.StopTimer()
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(recs))/per, "records/s")
	b.ReportMetric(float64(sensors*frames)*0.1/per, "sensor-s/s")
}
