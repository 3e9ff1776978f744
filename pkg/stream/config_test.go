package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/mhmstream/mhm/internal/cli"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFlagsEnvPrecedence(t *testing.T) {
	for k, v := range map[string]string{
		"MHM_BROKERS": "a:1, b:2", "MHM_GROUP": "from-env", "MHM_TLS_CA": "/ca.pem",
		"MHM_SASL_MECHANISM": "SCRAM-SHA-512", "MHM_SHUTDOWN_TIMEOUT": "5s", "MHM_MAX_IN_FLIGHT": "3",
	} {
		t.Setenv(k, v)
	}
	cfg := DefaultConfig()
	cfg.Group = "mhm-spectro"
	fs := cli.NewFlagSet("spectro", "spectro run [flags]", "", io.Discard)
	cfg.RegisterFlags(fs.FlagSet)
	fs.BindAllEnv()
	if err := fs.Parse([]string{"-group", "from-flag", "-max-in-flight", "7"}); err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.Join(cfg.Brokers, "|") != "a:1|b:2":
		t.Errorf("brokers %v from MHM_BROKERS", cfg.Brokers)
	case cfg.Group != "from-flag":
		t.Errorf("group %q: a flag must beat the environment", cfg.Group)
	case cfg.MaxInFlight != 7:
		t.Errorf("max-in-flight %d: a flag must beat the environment", cfg.MaxInFlight)
	case cfg.TLS.CAFile != "/ca.pem" || cfg.SASL.Mechanism != "SCRAM-SHA-512" || cfg.ShutdownTimeout != 5*time.Second:
		t.Errorf("env not applied: %+v", cfg)
	case cfg.Topics != DefaultTopics() || cfg.LogLevel != "info":
		t.Errorf("defaults lost: %+v", cfg)
	}
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.Usage()
	for _, want := range []string{"-brokers host:port,...", "env MHM_BROKERS", "env MHM_TLS_CA", "env MHM_SASL_MECHANISM", "env MHM_TOPIC_DLQ", `(default "mhm.raw")`} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, help.String())
		}
	}
}

func TestValidate(t *testing.T) {
	for name, mut := range map[string]func(c *Config){
		"no brokers":     func(c *Config) { c.Brokers = nil },
		"in-flight":      func(c *Config) { c.MaxInFlight = 0 },
		"concurrency":    func(c *Config) { c.Concurrency = 0 },
		"commit":         func(c *Config) { c.CommitInterval = 0 },
		"shutdown":       func(c *Config) { c.ShutdownTimeout = -1 },
		"cert w/o key":   func(c *Config) { c.TLS.CertFile = "c.pem" },
		"log level":      func(c *Config) { c.LogLevel = "loud" },
		"sasl mechanism": func(c *Config) { c.SASL.Mechanism = "GSSAPI"; c.SASL.User = "u" },
		"sasl no user":   func(c *Config) { c.SASL.Mechanism = "PLAIN" },
		"missing CA":     func(c *Config) { c.TLS.CAFile = "/nonexistent/ca.pem" },
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			mut(&c)
			if _, err := c.ClientOpts(); !errors.Is(err, ErrConfig) {
				t.Fatalf("ClientOpts error = %v, want ErrConfig", err)
			}
		})
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.TLS.CAFile = ca
	if _, err := c.ClientOpts(); !errors.Is(err, ErrConfig) {
		t.Fatalf("garbage CA: error = %v, want ErrConfig", err)
	}
}

// TestSASL connects with each mechanism to a kfake cluster that requires it.
func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "mhm", "s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cfg := DefaultConfig()
			cfg.Brokers = c.ListenAddrs()
			cfg.SASL = SASLConfig{Mechanism: strings.ToLower(mech), User: "mhm", Password: "s3cret"}
			ping := func(cfg Config) error {
				opts, err := cfg.ClientOpts()
				if err != nil {
					t.Fatal(err)
				}
				cl, err := kgo.NewClient(opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				return cl.Ping(ctx)
			}
			if err := ping(cfg); err != nil {
				t.Fatalf("good credentials: %v", err)
			}
			cfg.SASL.Password = "wrong"
			if err := ping(cfg); err == nil {
				t.Fatal("wrong password accepted")
			}
		})
	}
}

func TestEnsureTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	adm := kadm.NewClient(client(t, c.ListenAddrs()[0]))
	ctx := context.Background()
	specs := TopicSpecs(DefaultTopics(), 3, -1)
	created, err := EnsureTopics(ctx, adm, specs...)
	if err != nil || len(created) != 6 {
		t.Fatalf("created %v, %v; want all 6 topics", created, err)
	}
	again, err := EnsureTopics(ctx, adm, specs...)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run created %v, %v; want nothing", again, err)
	}
	td, err := adm.ListTopics(ctx, "mhm.raw", "mhm.models")
	if err != nil || len(td["mhm.raw"].Partitions) != 3 {
		t.Fatalf("mhm.raw: %v partitions, %v", len(td["mhm.raw"].Partitions), err)
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "mhm.models", "mhm.raw")
	if err != nil {
		t.Fatal(err)
	}
	policy := map[string]string{}
	for _, r := range rc {
		for _, kv := range r.Configs {
			if kv.Key == "cleanup.policy" && kv.Value != nil {
				policy[r.Name] = *kv.Value
			}
		}
	}
	if policy["mhm.models"] != "compact" || policy["mhm.raw"] == "compact" {
		t.Fatalf("cleanup.policy: %v; want compact for mhm.models only", policy)
	}
	if _, err := EnsureTopics(ctx, adm, TopicSpec{Name: "x", Partitions: 0}); !errors.Is(err, ErrConfig) {
		t.Fatalf("0 partitions: %v", err)
	}
}

func TestHTTPEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.RecordsIn.WithLabelValues("mhm.raw").Add(3)
	m.dlq("bad_magic")
	m.lag("mhm.raw", 2, 17)
	ready := errors.New("models not loaded")
	srv := httptest.NewServer(HTTPHandler(reg, func(context.Context) error { return nil }, func(context.Context) error { return ready }))
	defer srv.Close()
	get := func(path string) (int, string) {
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "models not loaded") {
		t.Errorf("/readyz %d %q, want 503 with the reason", code, body)
	}
	ready = nil
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz %d after ready", code)
	}
	_, body := get("/metrics")
	for _, want := range []string{`mhm_stream_records_in_total{topic="mhm.raw"} 3`, `mhm_stream_dlq_total{reason="bad_magic"} 1`, `mhm_stream_consumer_lag{partition="2",topic="mhm.raw"} 17`, "mhm_stream_handle_seconds_bucket"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestDLQReasonCardinality(t *testing.T) {
	m := NewMetrics(nil)
	for i := range 100 {
		m.dlq("reason_" + strconv.Itoa(i))
	}
	if n := len(m.reasons); n != maxReasons {
		t.Fatalf("%d distinct reasons kept, want %d", n, maxReasons)
	}
	var nilM *Metrics
	nilM.dlq("x") // a nil *Metrics records nothing and does not panic
}

func TestKgoLogger(t *testing.T) {
	var b bytes.Buffer
	l := KgoLogger{L: zerolog.New(&b).Level(zerolog.InfoLevel)}
	if l.Level() != kgo.LogLevelInfo {
		t.Fatalf("level %v", l.Level())
	}
	l.Log(kgo.LogLevelDebug, "hidden")
	l.Log(kgo.LogLevelWarn, "retrying", "broker", 1, "err", "EOF")
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("one JSON line expected, got %q: %v", b.String(), err)
	}
	if rec["message"] != "retrying" || rec["level"] != "warn" || rec["component"] != "kgo" || rec["broker"] != float64(1) || rec["err"] != "EOF" {
		t.Fatalf("log line %v", rec)
	}
	if _, err := NewLogger(io.Discard, "nope"); !errors.Is(err, ErrConfig) {
		t.Fatal("NewLogger accepted a bad level")
	}
}
