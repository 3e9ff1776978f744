package stream

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newCluster starts a one-broker kfake cluster on loopback TCP with the given
// topics (each with parts partitions).
func newCluster(t testing.TB, parts int32, topics ...string) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

func testLogger(t testing.TB) zerolog.Logger {
	if os.Getenv("MHM_TEST_LOG") != "" {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

func testConfig(addr, group string) Config {
	c := DefaultConfig()
	c.Brokers = []string{addr}
	c.Group = group
	c.Topics.DLQ = "dlq"
	c.CommitInterval = 50 * time.Millisecond
	c.ShutdownTimeout = 10 * time.Second
	c.MaxInFlight = 100
	return c
}

func newProc(t testing.TB, cfg Config, h Handler, inputs ...string) (*Processor, *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	p, err := NewProcessor(ProcessorConfig{Config: cfg, Inputs: inputs, Handler: h, Logger: testLogger(t), Metrics: m,
		KgoOpts: []kgo.Opt{kgo.FetchMaxWait(100 * time.Millisecond), kgo.RecordDeliveryTimeout(3 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// start runs p in the background; the returned function cancels it and
// returns Run's error.
func start(p *Processor) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { cancel(); err = <-errc })
		return err
	}
}

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceN produces n records to topic with keys "k0".."k{keys-1}" and
// values "i" (the index); it waits for every ack.
func produceN(t *testing.T, addr, topic string, n, keys int) {
	t.Helper()
	cl := client(t, addr)
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i%keys), Value: fmt.Appendf(nil, "%d", i)}
	}
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads topic from the start until it has at least n records or the
// timeout passes.
func readAll(t *testing.T, addr, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// committed returns the group's committed offsets for topic by partition.
func committed(t *testing.T, addr, group, topic string) map[int32]int64 {
	t.Helper()
	adm := kadm.NewClient(client(t, addr))
	os, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	os.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	return out
}

// endOffsets returns topic's high watermarks by partition.
func endOffsets(t *testing.T, addr, topic string) map[int32]int64 {
	t.Helper()
	adm := kadm.NewClient(client(t, addr))
	lo, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
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
