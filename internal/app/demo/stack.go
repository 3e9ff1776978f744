package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect"
	"github.com/mhmstream/mhm/internal/app/detect/catalog"
	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/internal/app/spectro"
	"github.com/mhmstream/mhm/internal/pipeline"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/stream/localbroker"
)

// stack is the running system: the embedded broker, the three stages in
// this process, and a consumer of their outputs.
type stack struct {
	broker    *localbroker.Broker
	sc        stream.Config
	reg       *prometheus.Registry
	stages    *pipeline.Stages
	ingestURL string
	cancel    context.CancelFunc
	done      chan error
	consumer  *kgo.Client
	collDone  chan error
	cancelCol context.CancelFunc
}

// defaultFeatures is spectro's front end for a stream without a model (no
// stream of the demo has none): the DCASE preset for 16 kHz audio, the
// vibration preset at other rates, as `train fit --preset auto` chooses.
func defaultFeatures(rate float64) (feature.Config, error) {
	if rate == 16000 {
		return feature.DCASE2020(), nil
	}
	return feature.Vibration(rate), nil
}

// startStack starts the broker on a free loopback port, publishes the
// units' models to the models topic, starts ingest (HTTP API on a free
// loopback port), spectro and detect, waits until they are ready (detect
// has loaded the models), and starts the collector. Stage logs (JSON) go to
// logw.
func startStack(ctx context.Context, units []*unit, logw io.Writer, col *collector, httpAddr string) (*stack, error) {
	b, err := localbroker.Start(ctx, localbroker.Config{Addr: "127.0.0.1:0", Partitions: 6})
	if err != nil {
		return nil, err
	}
	s := &stack{broker: b, reg: prometheus.NewRegistry()}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	s.sc = stream.DefaultConfig()
	s.sc.Brokers = []string{b.Addr()}
	s.sc.ClientID = "mhm-demo"
	s.sc.HTTPAddr = httpAddr
	s.sc.LogLevel = "info"

	// Publish the models exactly as `detect publish` does.
	pub, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ProducerBatchMaxBytes(catalog.MaxArtifactBytes), kgo.RecordRetries(3))
	if err != nil {
		return nil, err
	}
	var recs []*kgo.Record
	for _, u := range units {
		v, err := os.ReadFile(u.ModelPath)
		if err != nil {
			pub.Close()
			return nil, err
		}
		recs = append(recs, &kgo.Record{Topic: s.sc.Topics.Models, Key: []byte(catalog.RecordKey(&u.Meta)), Value: v})
	}
	err = detect.Publish(ctx, pub, s.sc.Topics.Models, recs, true, io.Discard)
	pub.Close()
	if err != nil {
		return nil, err
	}

	log, err := stream.NewLogger(logw, s.sc.LogLevel)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ingestURL = "http://" + ln.Addr().String() + "/v1/frames"
	s.stages, err = pipeline.New(pipeline.Config{
		Stream:         s.sc,
		Ingest:         &ingest.Config{Listen: ln.Addr().String()},
		IngestListener: ln,
		Spectro:        spectro.Config{Default: defaultFeatures, ModelsTopic: true},
		Detect:         detect.Config{ModelsTopic: true, Detector: "mhm-demo"},
	}, log, s.reg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- s.stages.Run(rctx) }()

	// Ready: connected, and detect has loaded every model.
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := s.stages.Ready(ctx)
		if err == nil && s.modelsLoaded() >= len(units) {
			break
		}
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("the pipeline stopped while starting: %w", err)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the pipeline is not ready after 90 s (%d of %d models loaded): %v", s.modelsLoaded(), len(units), err)
		}
	}

	// The collector reads what the detector wrote, from the beginning.
	s.consumer, err = kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ClientID("mhm-demo-report"),
		kgo.ConsumeTopics(s.sc.Topics.Anomalies, s.sc.Topics.Scores), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	cctx, ccancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancelCol, s.collDone = ccancel, make(chan error, 1)
	go func() { s.collDone <- col.run(cctx, s.consumer, s.sc.Topics.Anomalies, s.sc.Topics.Scores) }()
	ok = true
	return s, nil
}

// modelsLoaded counts the models detect has in use (mhm_models_loaded).
func (s *stack) modelsLoaded() int {
	return int(s.metric("mhm_models_loaded", map[string]string{"stage": "detect"}))
}

// metric sums the values of a metric family over the series whose labels
// include want.
func (s *stack) metric(name string, want map[string]string) float64 {
	mfs, err := s.reg.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				if labelOf(m, k) != v {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// stop shuts the stages down (each drains, flushes and commits), then the
// collector and the broker. It returns the stages' error.
func (s *stack) stop() error {
	var err error
	if s.cancel != nil {
		s.cancel()
		select {
		case err = <-s.done:
		case <-time.After(45 * time.Second):
			err = errors.New("the pipeline did not stop within 45 s")
		}
		s.cancel = nil
	}
	if s.cancelCol != nil {
		s.cancelCol()
		if cerr := <-s.collDone; cerr != nil && err == nil {
			err = cerr
		}
		s.cancelCol = nil
	}
	s.close()
	return err
}

func (s *stack) close() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	if s.cancelCol != nil {
		s.cancelCol()
		<-s.collDone
	}
	if s.consumer != nil {
		s.consumer.Close()
		s.consumer = nil
	}
	if s.broker != nil {
		s.broker.Close()
		s.broker = nil
	}
}

// modelMeta reads an artifact's metadata.
func modelMeta(path string) (model.Meta, error) {
	a, err := model.ReadFile(path)
	if err != nil {
		return model.Meta{}, err
	}
	return a.Meta, nil
}
