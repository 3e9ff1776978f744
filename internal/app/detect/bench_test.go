package detect

import (
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/sim"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/wire"
)

// BenchmarkHandle is detect's handler without Kafka: one op is one DCASE
// patch (640 values) of a simulated fan, scored by the DCASE 2020
// autoencoder in batches of 32, aggregated into 1 s windows (a score
// record, JSON, every 31 patches). Allocations per op are the windows'
// output records amortised; the per-patch path allocates nothing.
func BenchmarkHandle(b *testing.B) {
	m, err := ae.NewModel(ae.DCASE2020())
	if err != nil {
		b.Fatal(err)
	}
	wts, _ := m.MarshalBinary()
	a := &model.Artifact{Meta: model.Meta{Machine: "fan", Kind: model.DenseAE, Feature: feature.DCASE2020(), Created: time.Unix(1, 0),
		Threshold: threshold.Threshold{Method: threshold.Quantile, Param: 0.99, Value: 1e9},
		Decision:  model.Decision{Window: threshold.WindowConfig{LengthNs: 1e9}}}, Weights: wts}
	if _, err := a.Encode(); err != nil {
		b.Fatal(err)
	}
	sc := stream.DefaultConfig()
	sc.Brokers, sc.Group = []string{"127.0.0.1:1"}, "bench" // never dialled
	w, err := New(Config{Stream: sc, ModelsDir: b.TempDir()}, zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.cat.AddArtifact("bench", a, "bench"); err != nil {
		b.Fatal(err)
	}
	fan, _ := sim.New(sim.Preset(sim.Fan), 1)
	x := make([]float32, 16000*10)
	fan.Read(x)
	ps, err := feature.Patches(feature.DCASE2020(), x, "fan", "", 0)
	if err != nil {
		b.Fatal(err)
	}
	span := ps[len(ps)-1].StartNs + 1e9
	recs := make([]*kgo.Record, len(ps))
	for i, p := range ps {
		wp := wire.Patch{Tag: wire.Tag(p.Tag), FeatureHash: a.Meta.FeatureHash, T: p.Frames, F: p.Bins, Values: p.Values}
		recs[i] = &kgo.Record{Topic: sc.Topics.Patches, Value: wire.AppendPatch(nil, &wp)}
	}
	out := make([]*kgo.Record, 0, 4)
	var p wire.Patch
	b.ReportAllocs()
	b.SetBytes(int64(len(recs[0].Value)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(recs)
		if k == 0 && i > 0 { // the next lap, later in time
			for _, r := range recs {
				wire.DecodePatch(&p, r.Value)
				p.Tag.StartNs += span
				r.Value = wire.AppendPatch(r.Value[:0], &p)
			}
		}
		var err error
		if out, err = w.Handle(b.Context(), recs[k], out[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/31.25, "sensor-s/s")
}
