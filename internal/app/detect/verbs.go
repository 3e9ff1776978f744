package detect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect/catalog"
	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/stream"
)

// Program is the detect command: run (the worker) and publish (artifacts to
// the models topic).
func Program() cli.Program {
	return cli.Program{
		Name:    "detect",
		Summary: "anomaly detection on the patch stream with hot-reloaded models",
		Verbs: []cli.Verb{
			{Name: "run", Summary: "stream worker: patches in, anomaly events (and per-window scores) out", Run: runWorker},
			{Name: "publish", Summary: "publish model artifacts to the compacted models topic (every detect and spectro picks them up)", Run: runPublish},
		},
	}
}

const runHelp = `Consumes patches (topic-patches), scores them in small batches per (machine,
sensor) with the machine's current model, aggregates the scores over the model's
decision windows, applies its threshold and persistence rule and emits:

  topic-anomalies  one JSON event (docs/wire.md) per window that is above the
                   threshold while the alarm is raised (consecutive = windows
                   above in a row); event_id is deterministic: drop duplicates
  topic-scores     one JSON score record per window ("" to turn off)

Models come from -models-dir (watched) and the compacted models topic; for a
(machine, sensor) the most recently created artifact wins, and a new version
takes over at the stream's next window boundary. A patch of a machine without a
model, or computed with another feature configuration than its model's, goes to
the DLQ (reasons no_model, feature_mismatch). /readyz is ready once connected
and models are loaded.

A window is decided when a patch at or after its end arrives; a stream that
sends nothing for -flush-after has its open windows decided with the patches
they hold (a later patch inside them is skipped). See docs/pipeline.md.`

func runWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	sc := stream.DefaultConfig()
	sc.Group, sc.HTTPAddr = "mhm-detect", "127.0.0.1:9103"
	fs := cli.NewFlagSet("detect run", "detect run [flags]", runHelp, stderr)
	sc.RegisterFlags(fs.FlagSet)
	var cfg Config
	fs.StringVar(&cfg.ModelsDir, "models-dir", "", "folder of model artifacts (watched for new, changed and removed files)")
	fs.DurationVar(&cfg.ModelsPoll, "models-poll", 2*time.Second, "how often -models-dir is checked")
	fs.BoolVar(&cfg.ModelsTopic, "models-from-topic", true, "load models from the models topic too")
	fs.DurationVar(&cfg.LoadTimeout, "models-wait", 30*time.Second, "how long to wait for the initial model load before consuming")
	fs.IntVar(&cfg.Batch, "batch", 32, "most patches of one stream scored in one call")
	fs.DurationVar(&cfg.BatchSpan, "batch-span", 250*time.Millisecond, "score a stream's waiting patches once they span this much stream time (bounds the work left when windows close)")
	fs.StringVar(&cfg.Detector, "detector", "", "instance name written in events (default: host name)")
	fs.IntVar(&cfg.RestoreRecords, "restore-records", 20000, "records re-read before the committed offset of a newly assigned partition to rebuild open windows (-1: off)")
	fs.DurationVar(&cfg.FlushAfter, "flush-after", 2*time.Second, "decide a stream's open windows once it sent no patch for this long (wall clock; must exceed the gateways' frame period; negative: off)")
	fs.IntVar(&cfg.NNThreads, "nn-threads", 1, "goroutines one matrix product of a model may split across (-1: up to GOMAXPROCS); 1 suits a worker that scores many streams at once")
	fs.IntVar(&cfg.MaxStreams, "max-streams", 10000, "most (machine, sensor) streams held")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 10*time.Minute, "drop a stream without patches for this long")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	if cfg.ModelsTopic && sc.Topics.Models == "" {
		cfg.ModelsTopic = false
	}
	if cfg.ModelsDir == "" && !cfg.ModelsTopic {
		return fmt.Errorf("%w: no model source: give -models-dir or the models topic", cli.ErrUsage)
	}
	log, err := stream.NewLogger(stderr, sc.LogLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	cfg.Stream = sc
	reg := prometheus.NewRegistry()
	w, err := New(cfg, log.With().Str("worker", "detect").Logger(), reg)
	if err != nil {
		return err
	}
	stream.GoServe(ctx, sc.HTTPAddr, reg, log, w.Ready)
	return w.Run(ctx)
}

const publishHelp = `Publishes model artifacts to the compacted models topic, keyed by machine id
("machine/sensor" for a sensor-specific model): every detect and spectro worker
reading the topic loads them without a restart, and compaction keeps the latest
per key. --delete MACHINE[/SENSOR] publishes a tombstone that withdraws a
machine's model from the topic.

Artifacts are larger than Kafka's default 1 MB message limit for big models:
if the broker refuses one as too large, publish raises the topic's
max.message.bytes (with --raise-limit, default on) and retries.`

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sc := stream.DefaultConfig()
	fs := cli.NewFlagSet("detect publish", "detect publish [flags] MODEL... | --delete MACHINE[/SENSOR]", publishHelp, stderr)
	sc.RegisterFlags(fs.FlagSet)
	var del listFlag
	fs.Var(&del, "delete", "withdraw the model of `MACHINE[/SENSOR]` (repeatable)")
	raise := fs.Bool("raise-limit", true, "raise the topic's max.message.bytes when an artifact is too large")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 && len(del) == 0 {
		return fmt.Errorf("%w: no MODEL files and no --delete", cli.ErrUsage)
	}
	if sc.Topics.Models == "" {
		return fmt.Errorf("%w: -topic-models is empty", cli.ErrUsage)
	}
	var recs []*kgo.Record
	for _, path := range fs.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		a, err := model.Decode(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		recs = append(recs, &kgo.Record{Topic: sc.Topics.Models, Key: []byte(catalog.RecordKey(&a.Meta)), Value: b})
		fmt.Fprintf(stdout, "%s: %s (%s, machine %q, sensor %q, %d bytes)\n", path, a.Meta.Version, a.Meta.Kind, a.Meta.Machine, a.Meta.Sensor, len(b))
	}
	for _, k := range del {
		recs = append(recs, &kgo.Record{Topic: sc.Topics.Models, Key: []byte(k)})
		fmt.Fprintf(stdout, "tombstone for %s\n", k)
	}
	opts, err := sc.ClientOpts()
	if err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.ProducerBatchMaxBytes(catalog.MaxArtifactBytes), kgo.RecordRetries(3))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return Publish(ctx, cl, sc.Topics.Models, recs, *raise, stdout)
}

// Publish produces the records to the models topic and waits for the acks.
// When the broker refuses a record as too large and raise is set, it raises
// the topic's max.message.bytes to twice the largest record (at least
// 16 MiB) and retries once.
func Publish(ctx context.Context, cl *kgo.Client, topic string, recs []*kgo.Record, raise bool, out io.Writer) error {
	err := cl.ProduceSync(ctx, recs...).FirstErr()
	if err == nil || !raise || !errors.Is(err, kerr.MessageTooLarge) {
		if err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
		return nil
	}
	biggest := 0
	for _, r := range recs {
		biggest = max(biggest, len(r.Value))
	}
	limit := strconv.Itoa(max(2*biggest, 16<<20))
	resp, aerr := kadm.NewClient(cl).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &limit}}, topic)
	if aerr == nil {
		_, aerr = resp.On(topic, nil)
		if aerr == nil {
			for _, r := range resp {
				aerr = errors.Join(aerr, r.Err)
			}
		}
	}
	if aerr != nil {
		return fmt.Errorf("publish to %s: %w; raising max.message.bytes to %s failed: %v", topic, err, limit, aerr)
	}
	fmt.Fprintf(out, "raised %s max.message.bytes to %s\n", topic, limit)
	for _, r := range recs { // fresh records: kgo does not resend a failed one
		r.Partition, r.Offset = 0, 0
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}
