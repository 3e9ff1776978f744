package ingest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

// Producer is what the HTTP service needs from a Kafka client: an
// asynchronous produce whose promise says when the broker acknowledged (or
// refused) the record. *kgo.Client implements it.
type Producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
}

var _ Producer = (*kgo.Client)(nil)

// Config configures the HTTP ingest service.
type Config struct {
	// Stream is the Kafka configuration; Topics.Raw is where frames go.
	Stream stream.Config
	// Listen is the API's listen address (POST /v1/frames); default ":8080".
	Listen string
	// Token, when not empty, is the bearer token every request must carry
	// (Authorization: Bearer TOKEN); compared in constant time.
	Token string
	// MaxBody is the largest request body accepted, in bytes; default 1 MiB
	// (keep it at or below the broker's message.max.bytes, 1 MB by default
	// in Kafka: a binary frame is forwarded as is).
	MaxBody int64
	// ProduceTimeout bounds how long a request waits for Kafka's
	// acknowledgement before answering 503; default 10 s.
	ProduceTimeout time.Duration
	// KgoOpts are extra options of the producer (tests, tuning), applied
	// last.
	KgoOpts []kgo.Opt
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = ":8080"
	}
	if c.MaxBody == 0 {
		c.MaxBody = 1 << 20
	}
	if c.ProduceTimeout == 0 {
		c.ProduceTimeout = 10 * time.Second
	}
}

// Metrics of the ingest service (registered on the worker's registry).
type Metrics struct {
	Requests *prometheus.CounterVec // mhm_ingest_requests_total{code,reason}
	Frames   prometheus.Counter     // mhm_ingest_frames_total: frames acknowledged by Kafka
	Samples  prometheus.Counter     // mhm_ingest_samples_total
	Bytes    prometheus.Counter     // mhm_ingest_bytes_total: encoded frame bytes produced
	Seconds  prometheus.Histogram   // mhm_ingest_request_seconds: request to answer
}

// NewMetrics creates the ingest metrics and registers them on reg when reg
// is not nil. It panics if they are already registered there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_ingest_requests_total", Help: "HTTP requests to /v1/frames, by status code and reason."}, []string{"code", "reason"}),
		Frames:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_ingest_frames_total", Help: "Raw frames acknowledged by Kafka."}),
		Samples:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_ingest_samples_total", Help: "Samples in the frames acknowledged by Kafka."}),
		Bytes:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_ingest_bytes_total", Help: "Encoded raw-frame bytes acknowledged by Kafka."}),
		Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mhm_ingest_request_seconds", Help: "Seconds from request to answer (202 after Kafka's ack).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.Frames, m.Samples, m.Bytes, m.Seconds)
	}
	return m
}

// Handler is the HTTP API of ingest: POST /v1/frames. Create it with
// NewHandler; it is safe for concurrent use.
type Handler struct {
	cfg   Config
	prod  Producer
	log   zerolog.Logger
	m     *Metrics
	pool  sync.Pool // *reqState
	topic string
}

type reqState struct {
	body  []byte
	frame wire.RawFrame
	enc   []byte
}

// NewHandler returns the API handler producing to cfg.Stream.Topics.Raw
// through prod. m may be nil.
func NewHandler(cfg Config, prod Producer, log zerolog.Logger, m *Metrics) *Handler {
	cfg.defaults()
	h := &Handler{cfg: cfg, prod: prod, log: log, m: m, topic: cfg.Stream.Topics.Raw}
	h.pool.New = func() any { return new(reqState) }
	return h
}

// Answer is the JSON body of every /v1/frames response.
type Answer struct {
	Status    string `json:"status"`           // "accepted" or "error"
	Error     string `json:"error,omitempty"`  // what is wrong, for people
	Reason    string `json:"reason,omitempty"` // short label: wire.Reason or one of unauthorized, too_large, unsupported_media_type, method_not_allowed, unavailable
	Machine   string `json:"machine,omitempty"`
	Sensor    string `json:"sensor,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	Topic     string `json:"topic,omitempty"`
	Partition *int32 `json:"partition,omitempty"` // set on 202
	Offset    *int64 `json:"offset,omitempty"`    // set on 202
}

// ServeHTTP implements POST /v1/frames.
//
// The body is one raw frame: binary (Content-Type application/octet-stream,
// the wire format of docs/wire.md) or JSON (application/json). It answers
// 202 Accepted only after Kafka acknowledged the frame (acks=all), keyed by
// the machine id; 400 with the decoder's reason for a bad frame; 401 without
// the right bearer token; 405 for another method; 413 above the size limit;
// 415 for another content type; 503 (Retry-After: 1) when Kafka did not
// acknowledge in time. Every answer has a JSON body (Answer).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code, ans := h.serve(r)
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mhm-ingest"`)
	}
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(ans)
	_, _ = w.Write(append(b, '\n'))
	if h.m != nil {
		h.m.Requests.WithLabelValues(strconv.Itoa(code), ans.Reason).Inc()
		h.m.Seconds.Observe(time.Since(start).Seconds())
	}
}

func fail(code int, reason string, format string, a ...any) (int, Answer) {
	return code, Answer{Status: "error", Reason: reason, Error: fmt.Sprintf(format, a...)}
}

func (h *Handler) serve(r *http.Request) (int, Answer) {
	if h.cfg.Token != "" {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(h.cfg.Token)) != 1 {
			return fail(http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
		}
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, "method_not_allowed", "%s: use POST", r.Method)
	}
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	if ct == "" {
		media, err = "application/octet-stream", nil
	}
	if err != nil || (media != "application/octet-stream" && media != "application/json") {
		return fail(http.StatusUnsupportedMediaType, "unsupported_media_type", "content type %q: want application/octet-stream (binary raw frame) or application/json", ct)
	}
	if r.ContentLength > h.cfg.MaxBody {
		return fail(http.StatusRequestEntityTooLarge, "too_large", "body of %d bytes: the limit is %d", r.ContentLength, h.cfg.MaxBody)
	}
	st := h.pool.Get().(*reqState)
	reuse := true // false once kgo may still hold st's buffers
	defer func() {
		if reuse {
			h.pool.Put(st)
		}
	}()
	st.body, err = readBody(st.body[:0], r.Body, h.cfg.MaxBody)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return fail(http.StatusRequestEntityTooLarge, "too_large", "body larger than the limit of %d bytes", h.cfg.MaxBody)
		}
		return fail(http.StatusBadRequest, "bad_body", "reading the body: %v", err)
	}
	f := &st.frame
	var value []byte
	if media == "application/json" {
		if err := wire.DecodeRawFrameJSON(f, st.body); err != nil {
			return fail(http.StatusBadRequest, wire.Reason(err), "%v", err)
		}
		st.enc = wire.AppendRawFrame(st.enc[:0], f)
		value = st.enc
	} else {
		if err := wire.DecodeRawFrame(f, st.body); err != nil {
			return fail(http.StatusBadRequest, wire.Reason(err), "%v", err)
		}
		value = st.body
	}
	// kgo keeps the value until the promise runs. An idempotent producer
	// cannot give up on a record already sent, so the answer does not wait
	// past the timeout; the buffers then stay with kgo (not pooled).
	rec := &kgo.Record{Topic: h.topic, Key: []byte(f.Machine), Value: value}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.ProduceTimeout)
	defer cancel()
	acked := make(chan error, 1)
	h.prod.Produce(ctx, rec, func(_ *kgo.Record, err error) { acked <- err })
	var perr error
	select {
	case perr = <-acked:
	case <-ctx.Done():
		reuse, perr = false, fmt.Errorf("no acknowledgement within %v", h.cfg.ProduceTimeout)
	}
	if perr != nil {
		h.log.Warn().Err(perr).Str("machine", f.Machine).Uint64("seq", f.Seq).Msg("frame not acknowledged by Kafka")
		return fail(http.StatusServiceUnavailable, "unavailable", "Kafka did not acknowledge the frame: %v", perr)
	}
	if h.m != nil {
		h.m.Frames.Inc()
		h.m.Samples.Add(float64(f.Len()))
		h.m.Bytes.Add(float64(len(value)))
	}
	return http.StatusAccepted, Answer{Status: "accepted", Machine: f.Machine, Sensor: f.Sensor, Seq: f.Seq,
		Topic: rec.Topic, Partition: &rec.Partition, Offset: &rec.Offset}
}

var errTooLarge = errors.New("body too large")

// readBody appends at most limit bytes of r to dst; more is errTooLarge.
func readBody(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	lr := io.LimitReader(r, limit+1)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := lr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, errTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Service is the ingest HTTP worker: the API on its own listener, a Kafka
// producer, and the observability endpoints on Config.Stream.HTTPAddr.
type Service struct {
	cfg Config
	cl  *kgo.Client
	h   *Handler
	log zerolog.Logger
	reg prometheus.Gatherer
}

// New connects a producer (it does not wait for the brokers) and returns
// the service. reg may be nil (no metrics); when it is also a
// prometheus.Gatherer, Run serves it on /metrics.
func New(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Service, error) {
	cfg.defaults()
	opts, err := cfg.Stream.ClientOpts()
	if err != nil {
		return nil, err
	}
	if cfg.Stream.Topics.Raw == "" {
		return nil, fmt.Errorf("%w: no raw topic", stream.ErrConfig)
	}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(int32(min(cfg.MaxBody+4096, 64<<20))),
		kgo.WithLogger(stream.KgoLogger{L: log}),
	)
	cl, err := kgo.NewClient(append(opts, cfg.KgoOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("ingest: kafka client: %w", err)
	}
	s := &Service{cfg: cfg, cl: cl, log: log, h: NewHandler(cfg, cl, log, NewMetrics(reg))}
	if g, ok := reg.(prometheus.Gatherer); ok {
		s.reg = g
	}
	return s, nil
}

// Handler returns the API handler (POST /v1/frames) mounted on a mux that
// answers 404 elsewhere.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/frames", s.h)
	return mux
}

// Ready passes when a broker answers a metadata request.
func (s *Service) Ready(ctx context.Context) error { return s.cl.Ping(ctx) }

// Run serves the API on ln (or on Config.Listen when ln is nil) and the
// observability endpoints on Config.Stream.HTTPAddr until ctx is cancelled,
// then stops accepting requests, waits for those in flight (up to
// Stream.ShutdownTimeout), flushes and closes the producer.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	defer s.cl.Close()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Listen); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if s.reg != nil && s.cfg.Stream.HTTPAddr != "" {
		obsCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream.GoServe(obsCtx, s.cfg.Stream.HTTPAddr, s.reg, s.log, s.Ready)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info().Str("addr", ln.Addr().String()).Str("topic", s.cfg.Stream.Topics.Raw).Bool("token", s.cfg.Token != "").Int64("max_body", s.cfg.MaxBody).Msg("ingest: serving POST /v1/frames")
	select {
	case err := <-errc:
		return fmt.Errorf("ingest: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Stream.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn().Err(err).Msg("ingest: shutdown with requests in flight")
	}
	if err := s.cl.Flush(sctx); err != nil {
		s.log.Warn().Err(err).Msg("ingest: flush")
	}
	s.log.Info().Msg("ingest: stopped")
	return nil
}
