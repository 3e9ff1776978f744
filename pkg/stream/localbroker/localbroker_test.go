package localbroker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/stream"
)

func TestStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Start(ctx, Config{Addr: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mhm.raw", "mhm.patches", "mhm.anomalies", "mhm.scores", "mhm.dlq", "mhm.models"} {
		if len(td[name].Partitions) != 2 {
			t.Errorf("topic %s has %d partitions, want 2", name, len(td[name].Partitions))
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mhm.raw", Key: []byte("m"), Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, Config{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("a non-loopback address was accepted")
	}
	if _, err := Start(ctx, Config{Addr: b.Addr(), Topics: stream.DefaultTopics()}); err == nil {
		t.Fatal("a port in use was accepted")
	}
}
