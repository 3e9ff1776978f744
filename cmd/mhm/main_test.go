package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// syncBuffer is a bytes.Buffer safe for the broker goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "broker") {
		t.Fatalf("mhm --help: code %d, %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"broker", "-help"}, &out, &errb); code != 0 ||
		!strings.Contains(errb.String(), "IN MEMORY") && !strings.Contains(errb.String(), "in memory") {
		t.Fatalf("mhm broker -help: code %d, %q", code, errb.String())
	}
	if !strings.Contains(errb.String(), "env MHM_PARTITIONS") {
		t.Fatalf("broker help does not name the env variables: %q", errb.String())
	}
	if code := run(context.Background(), []string{"nope"}, &out, &errb); code != 2 {
		t.Fatalf("unknown verb: code %d", code)
	}
	if code := run(context.Background(), []string{"broker", "-partitions", "x"}, &out, &errb); code != 2 {
		t.Fatalf("bad flag: code %d", code)
	}
	if code := run(context.Background(), []string{"broker", "-addr", "192.0.2.1:9092"}, &out, &errb); code != 1 {
		t.Fatalf("non-loopback address: code %d", code)
	}
}

func TestBrokerVerb(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"broker", "-addr", "127.0.0.1:0", "-partitions", "2"}, &out, &errb) }()
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if s := out.String(); strings.Contains(s, "brokers=") {
			addr = strings.Fields(s[strings.Index(s, "brokers=")+len("brokers="):])[0]
			addr = strings.TrimSuffix(addr, "),")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("broker did not start: %q %q", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "IN MEMORY") {
		t.Fatalf("broker does not say it keeps data in memory: %q", out.String())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mhm.raw", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", addr, err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d: %s", code, errb.String())
	}
}

func TestDemoVerbCommandLine(t *testing.T) {
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "demo") {
		t.Fatalf("mhm --help does not list demo: %q", out.String())
	}
	errb.Reset()
	if code := run(ctx, []string{"demo", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "femto") || !strings.Contains(errb.String(), "-strict") {
		t.Fatalf("mhm demo --help: code %d, %q", code, errb.String())
	}
	for _, args := range [][]string{{"demo", "--machines", "0"}, {"demo", "extra"}, {"demo", "--healthy", "1s"}, {"demo", "--speed", "x"}, {"demo", "--femto-model", "svm"}} {
		errb.Reset()
		// --out a temporary folder: were a case to run the demo, it would
		// not write into the package.
		if code := run(ctx, append(args, "--out", t.TempDir()), &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
	// A data folder without FEMTO recordings: the demo cannot run (1), and
	// says why.
	errb.Reset()
	if code := run(ctx, []string{"demo", "--data", t.TempDir(), "--out", t.TempDir()}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "femto.tar.xz") {
		t.Errorf("--data on an empty folder: exit %d, %q", code, errb.String())
	}
}
