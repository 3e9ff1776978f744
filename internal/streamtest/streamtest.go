// Package streamtest starts what the stream workers' tests run against: an
// in-process Kafka-protocol broker (pkg/stream/localbroker) on a free
// loopback port, and a stream.Config that points a worker at it.
package streamtest

import (
	"context"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/stream/localbroker"
)

// Broker starts a broker with parts partitions per topic (mhm's default
// topics) on 127.0.0.1 and a free port, and closes it when the test ends
// (after the cleanups registered later, such as the test's clients). It
// returns the broker's address and a stream.Config for a worker under test:
// stream.DefaultConfig with the broker, no HTTP endpoint and a 5 s shutdown
// timeout; set Group and CommitInterval as the test needs. It fails the
// test if the broker cannot start.
func Broker(t testing.TB, parts int32) (string, stream.Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := localbroker.Start(ctx, localbroker.Config{Addr: "127.0.0.1:0", Partitions: parts})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); cancel() })
	cfg := stream.DefaultConfig()
	cfg.Brokers = []string{b.Addr()}
	cfg.HTTPAddr = ""
	cfg.ShutdownTimeout = 5 * time.Second
	return b.Addr(), cfg
}
