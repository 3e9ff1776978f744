package stream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("stream: bad configuration")

// Topics are the names of mhm's topics.
type Topics struct {
	Raw       string // raw sensor frames (wire.RawFrame, binary), key = machine
	Patches   string // spectrogram patches (wire.Patch, binary), key = machine
	Anomalies string // anomaly events (wire.Event, JSON), key = machine
	Scores    string // every decision (wire.Score, JSON), key = machine; optional
	DLQ       string // records that could not be processed, reason in headers
	Models    string // model artifacts, compacted, key = machine
}

// DefaultTopics returns mhm.raw, mhm.patches, mhm.anomalies, mhm.scores,
// mhm.dlq and mhm.models.
func DefaultTopics() Topics {
	return Topics{Raw: "mhm.raw", Patches: "mhm.patches", Anomalies: "mhm.anomalies", Scores: "mhm.scores", DLQ: "mhm.dlq", Models: "mhm.models"}
}

// TLSConfig selects TLS to the brokers. TLS is on when Enable is set or any
// file is given. Server certificates are verified unless InsecureSkipVerify.
type TLSConfig struct {
	Enable             bool
	CAFile             string // PEM CA bundle; empty = system roots
	CertFile, KeyFile  string // PEM client certificate and key (mutual TLS); both or neither
	ServerName         string // overrides the name checked in the server certificate
	InsecureSkipVerify bool   // default false; for tests only
}

// SASLConfig selects SASL authentication. Mechanism is "" (none), "PLAIN",
// "SCRAM-SHA-256" or "SCRAM-SHA-512" (case-insensitive).
type SASLConfig struct {
	Mechanism string
	User      string
	Password  string
}

// Config is what every worker is configured with. DefaultConfig gives the
// defaults; RegisterFlags exposes every field as a flag.
type Config struct {
	Brokers  []string // seed brokers, host:port; default 127.0.0.1:9092
	ClientID string   // Kafka client id; default "mhm"
	Group    string   // consumer group; workers set their own default
	TLS      TLSConfig
	SASL     SASLConfig
	Topics   Topics

	MaxInFlight     int           // records polled but not yet committable; default 1000
	Concurrency     int           // handler goroutines (partitions spread over them); default 1
	CommitInterval  time.Duration // how often finished offsets are committed; default 1s
	ShutdownTimeout time.Duration // drain+flush+commit budget on shutdown; default 30s
	// Linger is how long the producer waits for more records before
	// sending a partition's batch (kgo.ProducerLinger); default 0: send at
	// once (records produced while a request is in flight still batch).
	// franz-go's own default, 10ms, cost throughput and latency here:
	// `go run ./bench/stream -no-python -linger 10ms` against `-linger 0s`
	// gave 1,112 against 1,319 sensor-s per wall second and a frame → score
	// p99 of 41.6 against 5.7 ms (docs/pipeline.md).
	Linger time.Duration

	HTTPAddr string // /metrics, /healthz, /readyz listen address; "" = off; default 127.0.0.1:9464
	LogLevel string // trace, debug, info, warn, error; default info
}

// DefaultConfig returns the defaults documented on Config's fields.
func DefaultConfig() Config {
	return Config{
		Brokers:         []string{"127.0.0.1:9092"},
		ClientID:        "mhm",
		Topics:          DefaultTopics(),
		MaxInFlight:     1000,
		Concurrency:     1,
		CommitInterval:  time.Second,
		ShutdownTimeout: 30 * time.Second,
		HTTPAddr:        "127.0.0.1:9464",
		LogLevel:        "info",
	}
}

type listFlag struct{ p *[]string }

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listFlag) Set(s string) error {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	*l.p = out
	return nil
}

// RegisterFlags registers every field of c on fs, with c's current values
// as the defaults (so a worker sets its own defaults, such as Group and
// HTTPAddr, before calling it). Each flag NAME also reads the environment
// variable MHM_NAME (upper case, '-' → '_') when the worker binds it with
// internal/cli's FlagSet.BindAllEnv.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(listFlag{&c.Brokers}, "brokers", "comma-separated seed brokers `host:port,...`")
	fs.StringVar(&c.ClientID, "client-id", c.ClientID, "Kafka client id")
	fs.StringVar(&c.Group, "group", c.Group, "consumer group")
	fs.BoolVar(&c.TLS.Enable, "tls", c.TLS.Enable, "connect with TLS (implied by any -tls-* file)")
	fs.StringVar(&c.TLS.CAFile, "tls-ca", c.TLS.CAFile, "PEM CA bundle `file` to verify brokers (default: system roots)")
	fs.StringVar(&c.TLS.CertFile, "tls-cert", c.TLS.CertFile, "PEM client certificate `file` (mutual TLS)")
	fs.StringVar(&c.TLS.KeyFile, "tls-key", c.TLS.KeyFile, "PEM client key `file` (mutual TLS)")
	fs.StringVar(&c.TLS.ServerName, "tls-server-name", c.TLS.ServerName, "server name to verify in broker certificates")
	fs.BoolVar(&c.TLS.InsecureSkipVerify, "tls-insecure-skip-verify", c.TLS.InsecureSkipVerify, "do not verify broker certificates (tests only)")
	fs.StringVar(&c.SASL.Mechanism, "sasl-mechanism", c.SASL.Mechanism, "SASL `mechanism`: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default none)")
	fs.StringVar(&c.SASL.User, "sasl-user", c.SASL.User, "SASL user")
	fs.StringVar(&c.SASL.Password, "sasl-password", c.SASL.Password, "SASL password (prefer the environment variable)")
	fs.StringVar(&c.Topics.Raw, "topic-raw", c.Topics.Raw, "raw frames topic")
	fs.StringVar(&c.Topics.Patches, "topic-patches", c.Topics.Patches, "patches topic")
	fs.StringVar(&c.Topics.Anomalies, "topic-anomalies", c.Topics.Anomalies, "anomaly events topic")
	fs.StringVar(&c.Topics.Scores, "topic-scores", c.Topics.Scores, "per-decision scores topic (empty: do not publish)")
	fs.StringVar(&c.Topics.DLQ, "topic-dlq", c.Topics.DLQ, "dead-letter topic")
	fs.StringVar(&c.Topics.Models, "topic-models", c.Topics.Models, "compacted models topic")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", c.MaxInFlight, "most records polled but not yet committable (backpressure bound)")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "handler goroutines; a partition is always handled by one of them, in order")
	fs.DurationVar(&c.CommitInterval, "commit-interval", c.CommitInterval, "how often finished offsets are committed")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "budget to drain, flush and commit on SIGINT/SIGTERM")
	fs.DurationVar(&c.Linger, "linger", c.Linger, "how long the producer waits to fill a batch (0: send at once, lowest latency)")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "listen `address` for /metrics, /healthz, /readyz (empty: off)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: trace, debug, info, warn, error")
}

// Validate checks c and returns an error wrapping ErrConfig, or nil.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	switch {
	case len(c.Brokers) == 0:
		return bad("no brokers (-brokers, MHM_BROKERS)")
	case c.MaxInFlight < 1:
		return bad("max-in-flight %d < 1", c.MaxInFlight)
	case c.Concurrency < 1:
		return bad("concurrency %d < 1", c.Concurrency)
	case c.CommitInterval <= 0:
		return bad("commit-interval %v <= 0", c.CommitInterval)
	case c.ShutdownTimeout <= 0:
		return bad("shutdown-timeout %v <= 0", c.ShutdownTimeout)
	case c.Linger < 0 || c.Linger > time.Minute:
		return bad("linger %v: want 0 to 1m", c.Linger)
	case (c.TLS.CertFile == "") != (c.TLS.KeyFile == ""):
		return bad("tls-cert and tls-key go together")
	}
	if _, err := zerolog.ParseLevel(strings.ToLower(c.LogLevel)); err != nil || c.LogLevel == "" {
		return bad("log-level %q: want trace, debug, info, warn or error", c.LogLevel)
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.User == "" {
			return bad("sasl-mechanism %s needs sasl-user", c.SASL.Mechanism)
		}
	default:
		return bad("sasl-mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASL.Mechanism)
	}
	return nil
}

// ClientOpts validates c and returns the kgo options for connecting: seed
// brokers, client id, TLS and SASL. Consumer, group and producer options are
// added by the Processor (or by the caller, for a producer-only client). It
// reads the TLS files.
func (c *Config) ClientOpts() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(c.ClientID), kgo.ProducerLinger(c.Linger)}
	if tc, err := c.TLS.config(); err != nil {
		return nil, err
	} else if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.SASL.User, Pass: c.SASL.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.User, Pass: c.SASL.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.User, Pass: c.SASL.Password}.AsSha512Mechanism()))
	}
	return opts, nil
}

func (t *TLSConfig) config() (*tls.Config, error) {
	if !t.Enable && t.CAFile == "" && t.CertFile == "" && t.KeyFile == "" && !t.InsecureSkipVerify && t.ServerName == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: tls-ca: %v", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: tls-ca %s: no PEM certificate found", ErrConfig, t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: tls-cert/tls-key: %v", ErrConfig, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
