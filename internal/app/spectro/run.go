package spectro

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/stream"
)

// RunVerb is `spectro run`, the stream worker.
func RunVerb() cli.Verb {
	return cli.Verb{Name: "run", Summary: "stream worker: raw frames from Kafka in, spectrogram patches out", Run: runWorker}
}

const runHelp = `Consumes raw frames (topic-raw), keeps a streaming STFT per (machine, sensor)
and produces the frequency-tagged patches each frame completes (topic-patches),
keyed by machine id.

Feature configuration: a machine whose current model (from -models-dir or the
models topic) is for the frame's sample rate gets exactly the model's
configuration, so detect can score its patches; any other stream gets the
front end of the feature flags below (the same flags as 'spectro file').

Continuity (per machine and sensor): a repeated or older sequence number is
skipped and counted; missing frames (seq jumps), a timestamp off by more than
-time-tolerance, a sequence restart, a new sample rate or a new model
configuration end the stream's run (its last patches are flushed) and start a
new one at the frame, as if a new recording began.

Rebalances: a newly assigned partition re-reads up to -restore-records records
before the group's committed offset, emitting nothing, so that a stream whose
current run began within them continues exactly where the previous owner left
it. See docs/pipeline.md.`

func runWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	sc := stream.DefaultConfig()
	sc.Group, sc.HTTPAddr = "mhm-spectro", "127.0.0.1:9102"
	fs := cli.NewFlagSet("spectro run", "spectro run [flags]", runHelp, stderr)
	sc.RegisterFlags(fs.FlagSet)
	ff := cli.AddFeatureFlags(fs)
	var cfg Config
	fs.StringVar(&cfg.ModelsDir, "models-dir", "", "folder of model artifacts whose feature configurations override the flags per machine (watched)")
	fs.DurationVar(&cfg.ModelsPoll, "models-poll", 2*time.Second, "how often -models-dir is checked for changes")
	fs.BoolVar(&cfg.ModelsTopic, "models-from-topic", true, "take feature configurations from the models topic too")
	fs.IntVar(&cfg.MaxStreams, "max-streams", 10000, "most (machine, sensor) streams held; least recently used ones are dropped beyond it")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 10*time.Minute, "drop a stream that sent no frame for this long")
	fs.DurationVar(&cfg.TimeTolerance, "time-tolerance", 2*time.Millisecond, "timestamp deviation from the expected start of the next frame tolerated before it counts as a gap")
	fs.IntVar(&cfg.RestoreRecords, "restore-records", 2000, "records before the committed offset re-read when a partition is assigned, to rebuild its streams' STFT state (negative: off)")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	if _, err := ff.Config(16000); err != nil { // check the flags once up front
		return err
	}
	log, err := stream.NewLogger(stderr, sc.LogLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if cfg.ModelsTopic && sc.Topics.Models == "" {
		cfg.ModelsTopic = false
	}
	cfg.Stream = sc
	cfg.Default = func(rate float64) (feature.Config, error) { return ff.Config(rate) }
	reg := prometheus.NewRegistry()
	w, err := New(cfg, log.With().Str("worker", "spectro").Logger(), reg)
	if err != nil {
		return err
	}
	stream.GoServe(ctx, sc.HTTPAddr, reg, log, w.Ready)
	return w.Run(ctx)
}
