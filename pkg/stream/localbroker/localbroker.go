// Package localbroker runs an in-process Kafka-protocol broker (franz-go's
// kfake) with mhm's topics, for local runs of the separate workers, demos
// and end-to-end tests. It keeps everything in memory: all data is lost when
// it stops. It is not a production broker.
package localbroker

import (
	"context"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/stream"
)

// Config configures Start.
type Config struct {
	// Addr is the loopback host:port to listen on; port 0 picks a free one.
	// Default "127.0.0.1:9092". The broker advertises this address to
	// clients, so it must be one they can reach.
	Addr string
	// Partitions per topic, default 6.
	Partitions int32
	// Topics to create; zero value means stream.DefaultTopics().
	Topics stream.Topics
}

// Broker is a running in-memory broker.
type Broker struct {
	c    *kfake.Cluster
	addr string
}

// Start listens on cfg.Addr, creates the topics (mhm.models compacted) and
// returns the running broker. It refuses a non-loopback address: the broker
// has no authentication and keeps data only in memory.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:9092"
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 6
	}
	if cfg.Topics == (stream.Topics{}) {
		cfg.Topics = stream.DefaultTopics()
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("localbroker: address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("localbroker: %q is not a loopback address; the embedded broker is for local runs only", cfg.Addr)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("localbroker: %w", err)
	}
	// kfake listens through ListenFn; hand it the listener we already
	// hold so the address is exactly the one asked for.
	used := false
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ListenFn(func(string, string) (net.Listener, error) {
		if used {
			return nil, fmt.Errorf("localbroker: one listener only")
		}
		used = true
		return ln, nil
	}))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("localbroker: %w", err)
	}
	b := &Broker{c: c, addr: c.ListenAddrs()[0]}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr))
	if err != nil {
		c.Close()
		return nil, err
	}
	defer cl.Close()
	if _, err := stream.EnsureTopics(ctx, kadm.NewClient(cl), stream.TopicSpecs(cfg.Topics, cfg.Partitions, 1)...); err != nil {
		c.Close()
		return nil, err
	}
	return b, nil
}

// Addr returns the host:port clients connect to.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker; everything it held is lost.
func (b *Broker) Close() { b.c.Close() }
