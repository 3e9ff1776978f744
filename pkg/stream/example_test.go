package stream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/stream"
)

// A worker plugs a Handler into a Processor: here every input becomes an
// upper-cased output, and an empty value is dead-lettered with a reason.
func ExampleProcessor() {
	c, _ := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "mhm.raw", "mhm.patches", "mhm.dlq"))
	defer c.Close()

	cfg := stream.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.Group = "example"
	cfg.CommitInterval = 50 * time.Millisecond

	h := stream.HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		if len(in.Value) == 0 {
			return out, stream.Reject("empty", errors.New("empty record"))
		}
		return append(out, &kgo.Record{Topic: cfg.Topics.Patches, Key: in.Key, Value: bytes.ToUpper(in.Value)}), nil
	})
	p, err := stream.NewProcessor(stream.ProcessorConfig{
		Config: cfg, Inputs: []string{cfg.Topics.Raw}, Handler: h,
		Logger: zerolog.Nop(), Metrics: stream.NewMetrics(prometheus.NewRegistry()),
	})
	if err != nil {
		panic(err)
	}

	cl, _ := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(cfg.Topics.Patches, cfg.Topics.DLQ))
	defer cl.Close()
	for _, v := range []string{"a", "", "b"} {
		cl.ProduceSync(context.Background(), &kgo.Record{Topic: cfg.Topics.Raw, Key: []byte("m1"), Value: []byte(v)})
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	var got []string
	for len(got) < 3 {
		cl.PollFetches(context.Background()).EachRecord(func(r *kgo.Record) {
			if r.Topic == cfg.Topics.DLQ {
				got = append(got, fmt.Sprintf("dlq offset=%s reason=%s", hdr(r, stream.HeaderOffset), hdr(r, stream.HeaderReason)))
			} else {
				got = append(got, r.Topic+" "+string(r.Value))
			}
		})
	}
	cancel() // graceful: drain, flush, commit, leave
	fmt.Println(<-done)
	for _, g := range got {
		if g[0] != 'd' {
			fmt.Println(g)
		}
	}
	for _, g := range got {
		if g[0] == 'd' {
			fmt.Println(g)
		}
	}
	// Output:
	// <nil>
	// mhm.patches A
	// mhm.patches B
	// dlq offset=1 reason=empty
}

func hdr(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// ExampleReadBack re-reads the last 3 records before the group's committed
// offset, as a handler's OnAssign does to rebuild the state the previous
// owner of the partition held.
func ExampleReadBack() {
	c, _ := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "mhm.patches"))
	defer c.Close()
	cfg := stream.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.Group = "mhm-detect"

	ctx := context.Background()
	cl, _ := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	defer cl.Close()
	for i := range 10 {
		cl.ProduceSync(ctx, &kgo.Record{Topic: "mhm.patches", Value: fmt.Appendf(nil, "patch %d", i)})
	}
	var offs kadm.Offsets // the previous owner committed up to offset 8
	offs.Add(kadm.Offset{Topic: "mhm.patches", Partition: 0, At: 8, LeaderEpoch: -1})
	kadm.NewClient(cl).CommitAllOffsets(ctx, cfg.Group, offs)

	n, err := stream.ReadBack(ctx, cfg, "mhm.patches", []int32{0}, 3, func(r *kgo.Record) {
		fmt.Printf("offset %d: %s\n", r.Offset, r.Value)
	})
	fmt.Println(n, err)
	// Output:
	// offset 5: patch 5
	// offset 6: patch 6
	// offset 7: patch 7
	// 3 <nil>
}
