package ingest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/signal"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

// Program is the ingest command: serve, replay and encode.
func Program() cli.Program {
	return cli.Program{
		Name:    "ingest",
		Summary: "sensor frames into Kafka: an HTTP API for gateways and a replayer for recordings",
		Verbs: []cli.Verb{
			{Name: "serve", Summary: "run the HTTP API (POST /v1/frames) that writes raw frames to Kafka", Run: runServe},
			{Name: "replay", Summary: "stream recordings (WAV, FEMTO CSV, MAT, CSV) as raw frames to Kafka or an ingest server", Run: runReplay},
			{Name: "encode", Summary: "write recordings as raw-frame files (one per frame) for kcat or curl", Run: runEncode},
		},
	}
}

const serveHelp = `Serves POST /v1/frames for sensor gateways. The body is one raw frame, binary
(Content-Type: application/octet-stream) or JSON (application/json), as in
docs/wire.md. The frame is produced to the raw topic keyed by its machine id,
and the answer is 202 Accepted only once Kafka has acknowledged it (acks=all):
after a 202 the frame is durable. 4xx answers carry a JSON body with the
reason; on 503 (Kafka did not acknowledge in time) the gateway retries the same
frame: spectro drops a repeated sequence number, so retries are safe.

/metrics, /healthz and /readyz are on -http-addr.`

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg := Config{Stream: stream.DefaultConfig()}
	cfg.Stream.HTTPAddr = "127.0.0.1:9101"
	cfg.Stream.Group = "mhm-ingest" // unused: ingest only produces
	fs := cli.NewFlagSet("ingest serve", "ingest serve [flags]", serveHelp, stderr)
	cfg.Stream.RegisterFlags(fs.FlagSet)
	fs.StringVar(&cfg.Listen, "listen", ":8080", "listen `address` of the API")
	fs.StringVar(&cfg.Token, "token", "", "bearer token gateways must send (empty: none); prefer the environment variable")
	fs.Int64Var(&cfg.MaxBody, "max-body", 1<<20, "largest request body in `bytes` (keep it at or below the broker's message.max.bytes)")
	fs.DurationVar(&cfg.ProduceTimeout, "produce-timeout", 10*time.Second, "how long a request waits for Kafka's acknowledgement before 503")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	if cfg.MaxBody < 64 {
		return fmt.Errorf("%w: -max-body %d: want at least 64", cli.ErrUsage, cfg.MaxBody)
	}
	log, err := stream.NewLogger(stderr, cfg.Stream.LogLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, log.With().Str("worker", "ingest").Logger(), reg)
	if err != nil {
		return err
	}
	return s.Run(ctx, nil)
}

// replayFlags are the flags replay and encode share.
type replayFlags struct {
	cfg      ReplayConfig
	speed    string
	start    string
	encoding string
	onError  string
}

func addReplayFlags(fs *cli.FlagSet, withSpeed bool) *replayFlags {
	f := &replayFlags{}
	fs.StringVar(&f.cfg.Machine, "machine", "", "machine id of the frames (required)")
	fs.StringVar(&f.cfg.Sensor, "sensor", "", "sensor name of the frames")
	fs.IntVar(&f.cfg.Channel, "channel", 0, "channel of each file to send, counting from 0")
	fs.Float64Var(&f.cfg.FrameMs, "frame-ms", 100, "milliseconds of signal per frame")
	fs.StringVar(&f.start, "start", "now", "time of the first sample: now, Unix ns, or RFC 3339")
	fs.Uint64Var(&f.cfg.Seq, "seq", 0, "sequence number of the first frame")
	fs.StringVar(&f.encoding, "encoding", "float32", "sample encoding: float32 (lossless) or int16 (half the bytes, each file scaled to its peak)")
	fs.StringVar(&f.onError, "on-error", "stop", "a file that cannot be read: stop (the replay ends with an error) or skip (go on; named in the summary, exit status 1)")
	fs.Float64Var(&f.cfg.Read.Rate, "sr", 0, "sample rate in Hz for files without one (generic CSV, MAT files whose name does not say 12k/48k)")
	fs.StringVar(&f.cfg.Read.Variable, "variable", "", "MAT variable to read (name or suffix such as _DE_time)")
	if withSpeed {
		fs.StringVar(&f.speed, "speed", "1", "replay rate: 1 is real time, 10 ten times faster, max as fast as Kafka takes them")
	}
	return f
}

func (f *replayFlags) resolve(fs *cli.FlagSet) ([]string, error) {
	if f.cfg.Machine == "" {
		return nil, fmt.Errorf("%w: --machine is required", cli.ErrUsage)
	}
	if len(f.cfg.Machine) > wire.MaxStringLen || len(f.cfg.Sensor) > wire.MaxStringLen {
		return nil, fmt.Errorf("%w: --machine and --sensor are at most %d bytes", cli.ErrUsage, wire.MaxStringLen)
	}
	if fs.NArg() == 0 {
		return nil, fmt.Errorf("%w: no PATHS to replay", cli.ErrUsage)
	}
	switch strings.ToLower(f.speed) {
	case "max", "0":
		f.cfg.Speed = 0
	case "":
		f.cfg.Speed = 1
	default:
		v, err := strconv.ParseFloat(f.speed, 64)
		if err != nil || !(v > 0) {
			return nil, fmt.Errorf("%w: --speed %q: want a positive number or max", cli.ErrUsage, f.speed)
		}
		f.cfg.Speed = v
	}
	if !(f.cfg.FrameMs > 0) {
		return nil, fmt.Errorf("%w: --frame-ms %g: want > 0", cli.ErrUsage, f.cfg.FrameMs)
	}
	switch f.encoding {
	case "float32":
		f.cfg.Encoding = wire.Float32
	case "int16":
		f.cfg.Encoding = wire.Int16
	default:
		return nil, cli.OneOf("encoding", f.encoding, "float32", "int16")
	}
	switch f.onError {
	case "stop":
	case "skip":
		f.cfg.SkipBad = true
	default:
		return nil, cli.OneOf("on-error", f.onError, "stop", "skip")
	}
	ns, err := parseTime(f.start)
	if err != nil {
		return nil, fmt.Errorf("%w: --start: %v", cli.ErrUsage, err)
	}
	f.cfg.StartNs = ns
	paths, err := signal.Expand(fs.Args())
	if err != nil {
		return nil, err
	}
	return paths, nil
}

// parseTime reads "now" (0: Replay takes the current time), Unix ns, or
// RFC 3339.
func parseTime(s string) (int64, error) {
	if s == "" || s == "now" {
		return 0, nil
	}
	if ns, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ns <= 0 {
			return 0, fmt.Errorf("%d: want a positive Unix ns time", ns)
		}
		return ns, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q: want now, Unix ns or RFC 3339", s)
	}
	return t.UnixNano(), nil
}

const replayHelp = `Streams recordings as raw frames, in the order given (a folder gives its
.wav/.mat/.csv files in natural order; patterns are expanded), to the raw topic
keyed by --machine, or with --url to an ingest server.

Timestamps continue across files: a file starts where the previous one ended,
except files that carry their own start time (FEMTO snapshots, 10 s apart),
which keep their spacing. Sequence numbers grow by one per frame across all
files. Progress goes to stderr about once a second, and a summary at the end.`

func runReplay(ctx context.Context, args []string, _, stderr io.Writer) error {
	sc := stream.DefaultConfig()
	fs := cli.NewFlagSet("ingest replay", "ingest replay --machine ID [--sensor NAME] [--channel N] [--speed 1|max] [--frame-ms 100] PATHS...", replayHelp, stderr)
	sc.RegisterFlags(fs.FlagSet)
	rf := addReplayFlags(fs, true)
	url := fs.String("url", "", "send to an ingest server (http://host:8080/v1/frames) instead of Kafka")
	token := fs.String("token", "", "bearer token for --url; prefer the environment variable")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	paths, err := rf.resolve(fs)
	if err != nil {
		return err
	}
	rf.cfg.Progress = stderr
	var sink Sink
	if *url != "" {
		sink = &HTTPSink{URL: *url, Token: *token}
	} else {
		opts, err := sc.ClientOpts()
		if err != nil {
			return fmt.Errorf("%w: %v", cli.ErrUsage, err)
		}
		cl, err := kgo.NewClient(append(opts, kgo.ProducerBatchMaxBytes(16<<20))...)
		if err != nil {
			return err
		}
		defer cl.Close()
		sink = &KafkaSink{Client: cl, Topic: sc.Topics.Raw}
	}
	_, err = Replay(ctx, rf.cfg, paths, sink)
	return err
}

const encodeHelp = `Cuts recordings into raw frames exactly as replay does and writes each frame
to its own file in --out (frame-000000.bin, ...), for any Kafka client or HTTP
tool:

  kcat -P -b 127.0.0.1:9092 -t mhm.raw -k MACHINE OUT/*.bin
  curl -H 'Content-Type: application/octet-stream' --data-binary @OUT/frame-000000.bin http://127.0.0.1:8080/v1/frames

With --json the files are the JSON form (Content-Type: application/json).`

func runEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("ingest encode", "ingest encode --machine ID --out DIR [flags] PATHS...", encodeHelp, stderr)
	rf := addReplayFlags(fs, false)
	out := fs.String("out", "", "folder to write the frame files to (created if missing; required)")
	asJSON := fs.Bool("json", false, "write the JSON form instead of the binary one")
	fs.BindAllEnv()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", cli.ErrUsage)
	}
	paths, err := rf.resolve(fs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	rf.cfg.Speed = 0
	sum, err := Replay(ctx, rf.cfg, paths, &DirSink{Dir: *out, JSON: *asJSON})
	if err == nil {
		fmt.Fprintf(stdout, "wrote %d frame files to %s (seq %d..%d)\n", sum.Frames, *out, rf.cfg.Seq, sum.NextSeq-1)
	}
	return err
}
