package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/stream/localbroker"
)

const brokerHelp = `Runs an embedded Kafka-protocol broker (franz-go's kfake) on a loopback
address and creates the mhm topics (mhm.models compacted), so that ingest,
spectro and detect can run as separate processes on one machine.

It keeps all data in memory and loses it on exit. It is for local runs and
demos only; deploy against Apache Kafka (see docker-compose.yml).
Stops on SIGINT or SIGTERM.`

func runBroker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("mhm broker", "mhm broker [flags]", brokerHelp, stderr)
	addr := fs.String("addr", "127.0.0.1:9092", "loopback `host:port` to listen on (port 0: any free port)")
	parts := fs.Int("partitions", 6, "partitions per topic")
	topics := stream.DefaultTopics()
	fs.StringVar(&topics.Raw, "topic-raw", topics.Raw, "raw frames topic")
	fs.StringVar(&topics.Patches, "topic-patches", topics.Patches, "patches topic")
	fs.StringVar(&topics.Anomalies, "topic-anomalies", topics.Anomalies, "anomaly events topic")
	fs.StringVar(&topics.Scores, "topic-scores", topics.Scores, "scores topic (empty: not created)")
	fs.StringVar(&topics.DLQ, "topic-dlq", topics.DLQ, "dead-letter topic")
	fs.StringVar(&topics.Models, "topic-models", topics.Models, "compacted models topic")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	if *parts < 1 || *parts > 10000 {
		return fmt.Errorf("%w: --partitions %d: want 1 to 10000", cli.ErrUsage, *parts)
	}
	b, err := localbroker.Start(ctx, localbroker.Config{Addr: *addr, Partitions: int32(*parts), Topics: topics})
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(stdout, "mhm broker: listening on %s (brokers=%s), %d partitions per topic\n", b.Addr(), b.Addr(), *parts)
	fmt.Fprintf(stdout, "mhm broker: topics %s, %s, %s, %s, %s, %s (compacted)\n", topics.Raw, topics.Patches, topics.Anomalies, topics.Scores, topics.DLQ, topics.Models)
	fmt.Fprintln(stdout, "mhm broker: data is kept IN MEMORY ONLY and is lost when this process exits. Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "mhm broker: stopping; in-memory data discarded")
	return nil
}
