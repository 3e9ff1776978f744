package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/streamtest"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/threshold"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// artifact returns the encoded artifact of a model for machine/sensor
// created at t; weights distinguish versions. (The catalog never looks at
// weights: its bind function here reads the feature configuration only.)
func artifact(t *testing.T, machine, sensor string, created time.Time, weights string) (*model.Artifact, []byte) {
	t.Helper()
	a := &model.Artifact{Meta: model.Meta{Machine: machine, Sensor: sensor, Kind: model.DenseAE, Feature: feature.Vibration(8000), Created: created,
		Threshold: threshold.Threshold{Method: threshold.Quantile, Param: 0.99, Value: 1}}, Weights: []byte(weights)}
	b, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func version(c *Catalog[feature.Config], machine, sensor string) string {
	e, ok := c.Lookup(machine, sensor)
	if !ok {
		return ""
	}
	return e.Meta.Version
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	c := New(Config{Dir: dir, Metrics: reg}, FeatureOf, zerolog.Nop())
	if err := c.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "not scanned") {
		t.Fatalf("ready before the scan: %v", err)
	}
	c.ScanDir()
	if err := c.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "none loaded") {
		t.Fatalf("ready without models: %v", err)
	}
	a1, b1 := artifact(t, "m", "", t0, "one")
	a2, b2 := artifact(t, "m", "", t0.Add(time.Hour), "two")
	a3, b3 := artifact(t, "m", "x", t0, "three")
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.mhm", b1)
	write(".hidden", []byte("ignored"))
	write("partial.tmp", []byte("ignored"))
	c.ScanDir()
	if v := version(c, "m", "any"); v != a1.Meta.Version {
		t.Fatalf("machine-wide model for any sensor: %q", v)
	}
	if err := c.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := c.Gen()
	write("b.mhm", b2) // newer: wins
	write("x.mhm", b3) // sensor x has its own
	write("junk.mhm", []byte("not a model"))
	c.ScanDir()
	if v := version(c, "m", "y"); v != a2.Meta.Version || c.Gen() == g {
		t.Fatalf("after a newer model: %q (gen %d -> %d)", v, g, c.Gen())
	}
	if v := version(c, "m", "x"); v != a3.Meta.Version {
		t.Fatalf("sensor model: %q", v)
	}
	if v := testutil.ToFloat64(c.errs.WithLabelValues("file")); v != 1 {
		t.Fatalf("load errors %v, want 1 (junk.mhm)", v)
	}
	if v := testutil.ToFloat64(c.loaded.WithLabelValues("m", "", a2.Meta.Version)); v != 1 {
		t.Fatal("loaded gauge of the current version not 1")
	}
	c.ScanDir() // nothing changed: junk.mhm is not read again
	if v := testutil.ToFloat64(c.errs.WithLabelValues("file")); v != 1 {
		t.Fatalf("load errors %v after a rescan", v)
	}
	os.Remove(filepath.Join(dir, "b.mhm"))
	c.ScanDir()
	if v := version(c, "m", "y"); v != a1.Meta.Version {
		t.Fatalf("after removing the newer file: %q", v)
	}
	if n := testutil.CollectAndCount(c.loaded); n != 2 {
		t.Fatalf("%d loaded series, want 2 (m and m/x)", n)
	}
	// A file overwritten with garbage no longer offers its model.
	time.Sleep(10 * time.Millisecond)
	write("x.mhm", []byte("broken"))
	c.ScanDir()
	if v := version(c, "m", "x"); v != a1.Meta.Version {
		t.Fatalf("after x.mhm broke, sensor x falls back to the machine model: %q", v)
	}
}

func TestTopic(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, _ := streamtest.Broker(t, 2)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub := func(key string, v []byte) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mhm.models", Key: []byte(key), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	a1, b1 := artifact(t, "m1", "", t0, "one")
	_, b2 := artifact(t, "m2", "", t0, "two")
	a3, b3 := artifact(t, "m1", "", t0.Add(time.Minute), "three")
	pub("m1", b1)
	pub("m2", b2)
	pub("bad", []byte("MHMMODEL garbage"))

	sc := stream.DefaultConfig()
	sc.Brokers = []string{addr}
	dir := t.TempDir()
	_, old := artifact(t, "m1", "", t0.Add(-time.Hour), "old")
	os.WriteFile(filepath.Join(dir, "m1.mhm"), old, 0o644)
	c := New(Config{Dir: dir, Poll: 20 * time.Millisecond, Stream: sc, KgoOpts: []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}}, FeatureOf, zerolog.Nop())
	go c.Run(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := c.WaitLoaded(wctx); err != nil {
		t.Fatal(err)
	}
	// Caught up: everything published before the start is loaded.
	if v := version(c, "m1", ""); v != a1.Meta.Version {
		t.Fatalf("m1: %q, want the topic's (newer than the file's)", v)
	}
	if _, ok := c.Lookup("m2", "s"); !ok {
		t.Fatal("m2 not loaded")
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	pub("m1", b3) // hot reload
	waitFor("the new m1", func() bool { return version(c, "m1", "") == a3.Meta.Version })
	pub("m1", nil) // tombstone: the file's older model is current again
	waitFor("m1 back to the file", func() bool {
		e, ok := c.Lookup("m1", "")
		return ok && strings.HasPrefix(e.Source, "file:")
	})
	pub("m2", nil)
	waitFor("m2 withdrawn", func() bool { _, ok := c.Lookup("m2", ""); return !ok })
	if n := len(c.Entries()); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}
}

func TestRecordKey(t *testing.T) {
	if k := RecordKey(&model.Meta{Machine: "m"}); k != "m" {
		t.Fatal(k)
	}
	if k := RecordKey(&model.Meta{Machine: "m", Sensor: "de"}); k != "m/de" {
		t.Fatal(k)
	}
}
