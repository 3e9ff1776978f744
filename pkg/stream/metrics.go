package stream

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxReasons bounds the distinct values of the DLQ reason label; reasons
// past it are counted as "other".
const maxReasons = 32

// Metrics are the Prometheus collectors of one worker's stream layer. All
// names start with mhm_stream_. Create them with NewMetrics; a nil *Metrics
// is valid and records nothing.
type Metrics struct {
	RecordsIn     *prometheus.CounterVec // mhm_stream_records_in_total{topic}
	RecordsOut    *prometheus.CounterVec // mhm_stream_records_out_total{topic}, acknowledged outputs (DLQ included)
	DLQ           *prometheus.CounterVec // mhm_stream_dlq_total{reason}
	ProduceErrors prometheus.Counter     // mhm_stream_produce_errors_total
	Commits       *prometheus.CounterVec // mhm_stream_commits_total{result="ok"|"error"}
	HandleSeconds prometheus.Histogram   // mhm_stream_handle_seconds: handler call duration
	RecordSeconds prometheus.Histogram   // mhm_stream_record_seconds: poll to all outputs acknowledged
	InFlight      prometheus.Gauge       // mhm_stream_in_flight_records
	Lag           *prometheus.GaugeVec   // mhm_stream_consumer_lag{topic,partition}: high watermark − next offset
	Assigned      prometheus.Gauge       // mhm_stream_assigned_partitions
	Rebalances    *prometheus.CounterVec // mhm_stream_rebalances_total{kind="assigned"|"revoked"|"lost"}
	Paused        prometheus.Gauge       // mhm_stream_fetch_paused: 1 while backpressure pauses fetching
	reasonsMu     sync.Mutex
	reasons       map[string]bool
}

// NewMetrics creates the stream metrics and registers them on reg when reg
// is not nil. Worker-specific metrics (models loaded, their versions) are
// registered by the worker on the same registry. It panics if a metric is
// already registered on reg (programmer error).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	lat := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &Metrics{
		RecordsIn:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_stream_records_in_total", Help: "Records consumed and handed to the handler, by input topic."}, []string{"topic"}),
		RecordsOut:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_stream_records_out_total", Help: "Output records acknowledged by the broker, by topic (DLQ records included)."}, []string{"topic"}),
		DLQ:           prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_stream_dlq_total", Help: "Input records sent to the dead-letter topic, by reason."}, []string{"reason"}),
		ProduceErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_stream_produce_errors_total", Help: "Output records the broker did not acknowledge (the processor stops without committing them)."}),
		Commits:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_stream_commits_total", Help: "Offset commits, by result."}, []string{"result"}),
		HandleSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mhm_stream_handle_seconds", Help: "Handler call duration in seconds.", Buckets: lat}),
		RecordSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mhm_stream_record_seconds", Help: "Seconds from poll to every output of a record acknowledged.", Buckets: lat}),
		InFlight:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "mhm_stream_in_flight_records", Help: "Records polled whose outputs are not all acknowledged yet."}),
		Lag:           prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mhm_stream_consumer_lag", Help: "Records behind the high watermark at the last fetch, by partition."}, []string{"topic", "partition"}),
		Assigned:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "mhm_stream_assigned_partitions", Help: "Partitions currently assigned to this member."}),
		Rebalances:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_stream_rebalances_total", Help: "Partition assignment changes, by kind."}, []string{"kind"}),
		Paused:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "mhm_stream_fetch_paused", Help: "1 while fetching is paused because max-in-flight records are outstanding."}),
		reasons:       map[string]bool{},
	}
	if reg != nil {
		reg.MustRegister(m.RecordsIn, m.RecordsOut, m.DLQ, m.ProduceErrors, m.Commits, m.HandleSeconds,
			m.RecordSeconds, m.InFlight, m.Lag, m.Assigned, m.Rebalances, m.Paused)
	}
	return m
}

// reason returns r, or "other" once maxReasons distinct reasons were seen.
func (m *Metrics) reason(r string) string {
	m.reasonsMu.Lock()
	defer m.reasonsMu.Unlock()
	if m.reasons[r] {
		return r
	}
	if len(m.reasons) >= maxReasons {
		return "other"
	}
	m.reasons[r] = true
	return r
}

func (m *Metrics) dlq(reason string) {
	if m != nil {
		m.DLQ.WithLabelValues(m.reason(reason)).Inc()
	}
}

func (m *Metrics) lag(topic string, part int32, lag int64) {
	if m != nil {
		m.Lag.WithLabelValues(topic, strconv.Itoa(int(part))).Set(float64(lag))
	}
}

func (m *Metrics) dropLag(topic string, part int32) {
	if m != nil {
		m.Lag.DeleteLabelValues(topic, strconv.Itoa(int(part)))
	}
}
