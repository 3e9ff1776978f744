// Command kafkacmp compares the produce rate of franz-go (kgo) and
// segmentio/kafka-go against the same in-process kfake broker over loopback
// TCP. It lives in its own module so the main mhm module never depends on
// kafka-go. See docs/decisions.md ("Kafka client").
//
//	cd bench/kafkacmp && go run . [-records 100000] [-size 2600] [-partitions 6] [-rounds 3]
//
// Each round produces the same records (keys spread over 100 machines,
// values of -size bytes: 2600 is a binary 5×128 patch, 32000 a 16 kHz
// half-second float32 raw frame) with acks=all and reports records/s for:
//
//	kgo          async Produce with a promise per record, then Flush
//	              (idempotent producer, the library default)
//	kafka-go     Writer.WriteMessages with slices of 1000 messages, BatchSize
//	              1000, BatchTimeout 1ms (kafka-go's best synchronous use)
//	kafka-go/1   Writer.WriteMessages one message per call from 64
//	              goroutines (how a per-record handler would use it)
//
// Rounds alternate the clients so machine noise hits both alike.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	records := flag.Int("records", 100000, "records per client per round")
	size := flag.Int("size", 2600, "value size in bytes")
	parts := flag.Int("partitions", 6, "partitions of the topic")
	rounds := flag.Int("rounds", 3, "rounds (median reported)")
	flag.Parse()

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(*parts), kfake.AllowAutoTopicCreation())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]

	value := make([]byte, *size)
	for i := range value {
		value[i] = byte(i * 7)
	}
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "machine-%03d", i)
	}

	type result struct {
		name  string
		rates []float64
	}
	results := []*result{{name: "kgo"}, {name: "kafka-go"}, {name: "kafka-go/1"}}
	for r := range *rounds {
		for _, res := range results {
			topic := fmt.Sprintf("cmp-%s-%d", res.name, r)
			var d time.Duration
			var err error
			switch res.name {
			case "kgo":
				d, err = runKgo(addr, topic, *records, keys, value)
			case "kafka-go":
				d, err = runKafkaGo(addr, topic, *records, keys, value, 1000)
			case "kafka-go/1":
				n := *records / 10 // one-at-a-time is slow; scale the rate
				d, err = runKafkaGoSingle(addr, topic, n, keys, value, 64)
				d = d * time.Duration(*records) / time.Duration(n)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", res.name, err)
				os.Exit(1)
			}
			res.rates = append(res.rates, float64(*records)/d.Seconds())
		}
	}
	base := median(results[0].rates)
	fmt.Printf("records=%d size=%dB partitions=%d rounds=%d (median)\n", *records, *size, *parts, *rounds)
	fmt.Printf("%-11s %12s %10s %8s\n", "client", "records/s", "MB/s", "vs kgo")
	for _, res := range results {
		m := median(res.rates)
		fmt.Printf("%-11s %12.0f %10.1f %8.2f\n", res.name, m, m*float64(*size)/1e6, m/base)
	}
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func runKgo(addr, topic string, n int, keys [][]byte, value []byte) (time.Duration, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(100000))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	// Warm up: metadata and the producer id.
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: value}).FirstErr(); err != nil {
		return 0, err
	}
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for i := range n {
		cl.Produce(context.Background(), &kgo.Record{Key: keys[i%len(keys)], Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		return 0, err
	}
	return time.Since(start), firstErr
}

func newWriter(addr, topic string, batch int) *kafka.Writer {
	return &kafka.Writer{
		Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchSize: batch, BatchTimeout: time.Millisecond,
		AllowAutoTopicCreation: true,
	}
}

func warm(w *kafka.Writer, value []byte) error {
	var err error
	for range 50 { // auto-creation makes the first writes fail until the topic exists
		if err = w.WriteMessages(context.Background(), kafka.Message{Key: []byte("w"), Value: value}); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func runKafkaGo(addr, topic string, n int, keys [][]byte, value []byte, batch int) (time.Duration, error) {
	w := newWriter(addr, topic, batch)
	defer w.Close()
	if err := warm(w, value); err != nil {
		return 0, err
	}
	msgs := make([]kafka.Message, 0, batch)
	start := time.Now()
	for i := range n {
		msgs = append(msgs, kafka.Message{Key: keys[i%len(keys)], Value: value})
		if len(msgs) == batch || i == n-1 {
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				return 0, err
			}
			msgs = msgs[:0]
		}
	}
	return time.Since(start), nil
}

func runKafkaGoSingle(addr, topic string, n int, keys [][]byte, value []byte, workers int) (time.Duration, error) {
	w := newWriter(addr, topic, 100)
	defer w.Close()
	if err := warm(w, value); err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	start := time.Now()
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += workers {
				if err := w.WriteMessages(context.Background(), kafka.Message{Key: keys[i%len(keys)], Value: value}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	select {
	case err := <-errc:
		return 0, err
	default:
	}
	return d, nil
}
