// Package pipeline runs the stream workers of mhm in one process: the
// ingest HTTP API (optional), spectro and detect, each exactly the code its
// own program runs (internal/app/...), each in its own consumer group, with
// one observability endpoint for all. The demo, the end-to-end tests and
// the stream benchmark use it; production runs the programs separately
// (docker-compose.yml).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mhmstream/mhm/internal/app/detect"
	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/internal/app/spectro"
	"github.com/mhmstream/mhm/pkg/stream"
)

// Config configures the stages. Each stage's Stream field is ignored: it
// is Config.Stream with the stage's own consumer group.
type Config struct {
	// Stream is the Kafka configuration shared by the stages; its HTTPAddr
	// serves /metrics (every stage's, with a "stage" label), /healthz and
	// /readyz (ready when every stage is).
	Stream stream.Config
	// Ingest, when not nil, runs the HTTP API (on IngestListener if set,
	// else Ingest.Listen).
	Ingest         *ingest.Config
	IngestListener net.Listener
	// Spectro and Detect configure the workers (Default is required for
	// spectro; a model source for detect).
	Spectro spectro.Config
	Detect  detect.Config
	// Groups of the stages; defaults "mhm-spectro" and "mhm-detect".
	SpectroGroup, DetectGroup string
}

// Stages are the running workers, for tests and the demo to inspect.
type Stages struct {
	Ingest  *ingest.Service
	Spectro *spectro.Worker
	Detect  *detect.Worker
	reg     prometheus.Registerer
	cfg     Config
	log     zerolog.Logger
}

// New builds the stages; reg (may be nil) receives every stage's metrics
// with a constant label stage="ingest"|"spectro"|"detect".
func New(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Stages, error) {
	if cfg.SpectroGroup == "" {
		cfg.SpectroGroup = "mhm-spectro"
	}
	if cfg.DetectGroup == "" {
		cfg.DetectGroup = "mhm-detect"
	}
	wrap := func(stage string) prometheus.Registerer {
		if reg == nil {
			return nil
		}
		return prometheus.WrapRegistererWith(prometheus.Labels{"stage": stage}, reg)
	}
	s := &Stages{reg: reg, cfg: cfg, log: log}
	var err error
	if cfg.Ingest != nil {
		ic := *cfg.Ingest
		ic.Stream = cfg.Stream
		ic.Stream.HTTPAddr = "" // the pipeline serves one endpoint
		if s.Ingest, err = ingest.New(ic, log.With().Str("stage", "ingest").Logger(), wrap("ingest")); err != nil {
			return nil, fmt.Errorf("pipeline: ingest: %w", err)
		}
	}
	sc := cfg.Spectro
	sc.Stream = cfg.Stream
	sc.Stream.Group = cfg.SpectroGroup
	if s.Spectro, err = spectro.New(sc, log.With().Str("stage", "spectro").Logger(), wrap("spectro")); err != nil {
		return nil, fmt.Errorf("pipeline: spectro: %w", err)
	}
	dc := cfg.Detect
	dc.Stream = cfg.Stream
	dc.Stream.Group = cfg.DetectGroup
	if s.Detect, err = detect.New(dc, log.With().Str("stage", "detect").Logger(), wrap("detect")); err != nil {
		return nil, fmt.Errorf("pipeline: detect: %w", err)
	}
	return s, nil
}

// Ready passes when every stage is ready.
func (s *Stages) Ready(ctx context.Context) error {
	if s.Ingest != nil {
		if err := s.Ingest.Ready(ctx); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if err := s.Spectro.Ready(ctx); err != nil {
		return fmt.Errorf("spectro: %w", err)
	}
	if err := s.Detect.Ready(ctx); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	return nil
}

// Run runs every stage until ctx is cancelled, then shuts them down (each
// drains, flushes and commits, docs/stream.md). If one stage fails the
// others are stopped and the errors returned.
func (s *Stages) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
				cancel()
			}
		}()
	}
	if g, ok := s.reg.(prometheus.Gatherer); ok && s.cfg.Stream.HTTPAddr != "" {
		run("http", func(ctx context.Context) error { return stream.Serve(ctx, s.cfg.Stream.HTTPAddr, g, s.log, s.Ready) })
	}
	if s.Ingest != nil {
		run("ingest", func(ctx context.Context) error { return s.Ingest.Run(ctx, s.cfg.IngestListener) })
	}
	run("spectro", s.Spectro.Run)
	run("detect", s.Detect.Run)
	wg.Wait()
	return errors.Join(errs...)
}
