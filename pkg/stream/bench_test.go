package stream

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkProcessorEcho measures the processor end to end on kfake over
// loopback: b.N records of 2600 bytes (a binary 5×128 patch) are produced to
// "in" first, then timed from Run's start until the last output is committed
// (consume, handle, produce one output, wait for its ack, commit).
func BenchmarkProcessorEcho(b *testing.B) {
	_, addr := newCluster(b, 6, "in", "out", "dlq")
	value := make([]byte, 2600)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = []byte{byte('a' + i%26), byte('a' + i/26)}
	}
	for i := range b.N {
		cl.Produce(context.Background(), &kgo.Record{Topic: "in", Key: keys[i%len(keys)], Value: value}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	cl.Close()
	cfg := testConfig(addr, "bench")
	cfg.MaxInFlight = 5000
	h := HandlerFunc(func(_ context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		return append(out, &kgo.Record{Topic: "out", Key: in.Key, Value: in.Value}), nil
	})
	p, _ := newProc(b, cfg, h, "in")
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	t0 := time.Now()
	stop := start(p)
	for {
		p.mu.Lock()
		var done int64
		for _, ps := range p.parts {
			if ps.hasNext {
				done += ps.next.Offset
			}
		}
		p.mu.Unlock()
		if done >= int64(b.N) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "records/s")
	if err := stop(); err != nil {
		b.Fatal(err)
	}
}
