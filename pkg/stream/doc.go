// Package stream is the small Kafka layer every mhm worker shares, on
// franz-go's kgo: configuration by flags with MHM_* environment fallbacks,
// a consume → handle → produce → commit loop with a dead-letter topic and
// at-least-once delivery, topic creation, Prometheus metrics, health
// endpoints and zerolog logging.
//
// A worker implements Handler (optionally AssignHook and RevokeHook for
// per-partition state), builds a Processor from its Config and runs it:
//
//	cfg := stream.DefaultConfig()
//	cfg.Group = "mhm-spectro"
//	fs := cli.NewFlagSet("spectro run", usage, help, os.Stderr) // internal/cli
//	cfg.RegisterFlags(fs.FlagSet)
//	fs.BindAllEnv() // every flag NAME falls back to MHM_NAME
//	if err := fs.Parse(args); err != nil { ... }
//	log, _ := stream.NewLogger(os.Stderr, cfg.LogLevel)
//	reg := prometheus.NewRegistry()
//	p, err := stream.NewProcessor(stream.ProcessorConfig{
//		Config: cfg, Inputs: []string{cfg.Topics.Raw}, Handler: handler,
//		Logger: log, Metrics: stream.NewMetrics(reg),
//	})
//	stream.GoServe(ctx, cfg.HTTPAddr, reg, log, p.Ready)
//	err = p.Run(ctx) // returns after a graceful shutdown when ctx is cancelled
//
// A handler whose state spans many records (a window, an STFT) rebuilds it
// in OnAssign with ReadBack, which re-reads the records just before the
// group's committed offset of the assigned partitions.
//
// Delivery semantics, the DLQ headers, the metrics and every setting are
// described in docs/stream.md.
package stream
