package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/mhmstream/mhm/pkg/wire"
)

// echo forwards each input to topic out with its key and value "v=<value>".
func echo(out string) HandlerFunc {
	return func(_ context.Context, in *kgo.Record, dst []*kgo.Record) ([]*kgo.Record, error) {
		return append(dst, &kgo.Record{Topic: out, Key: in.Key, Value: append([]byte("v="), in.Value...)}), nil
	}
}

// TestPipelineOrderAndGracefulCommit: every input yields its output, per-key
// order is kept, and a graceful shutdown commits the end of every partition.
func TestPipelineOrderAndGracefulCommit(t *testing.T) {
	_, addr := newCluster(t, 3, "in", "out", "dlq")
	const n = 600
	produceN(t, addr, "in", n, 7)
	cfg := testConfig(addr, "g")
	cfg.Concurrency = 2
	p, m := newProc(t, cfg, echo("out"), "in")
	stop := start(p)
	got := readAll(t, addr, "out", n, 20*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d outputs, want %d", len(got), n)
	}
	last := map[string]int{}
	for _, r := range got {
		v, _ := strconv.Atoi(string(bytes.TrimPrefix(r.Value, []byte("v="))))
		if prev, ok := last[string(r.Key)]; ok && v <= prev {
			t.Fatalf("key %s: value %d after %d: per-key order broken", r.Key, v, prev)
		}
		last[string(r.Key)] = v
	}
	if c, e := committed(t, addr, "g", "in"), endOffsets(t, addr, "in"); fmt.Sprint(c) != fmt.Sprint(e) {
		t.Fatalf("committed %v after graceful shutdown, want the end offsets %v", c, e)
	}
	if in := testutil.ToFloat64(m.RecordsIn.WithLabelValues("in")); in != n {
		t.Fatalf("records_in = %v, want %d", in, n)
	}
	if out := testutil.ToFloat64(m.RecordsOut.WithLabelValues("out")); out != n {
		t.Fatalf("records_out = %v, want %d", out, n)
	}
}

// TestDLQ: a handler error sends the input, unchanged, to the DLQ with the
// reason headers; processing goes on and the bad records are committed.
func TestDLQ(t *testing.T) {
	_, addr := newCluster(t, 1, "in", "out", "dlq")
	cl := client(t, addr)
	vals := []string{"ok1", "corrupt", "ok2", "nan", "boom", "ok3"}
	for i, v := range vals {
		r := &kgo.Record{Topic: "in", Key: []byte("m1"), Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "src", Value: []byte(strconv.Itoa(i))}}}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	h := HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		switch string(in.Value) {
		case "corrupt":
			var f wire.RawFrame
			return out, wire.DecodeRawFrame(&f, in.Value) // bad magic
		case "nan":
			return out, Reject("nan_frame", errors.New("frame full of NaN"))
		case "boom":
			return out, errors.New("boom")
		}
		return echo("out")(ctx, in, out)
	})
	p, m := newProc(t, testConfig(addr, "g"), h, "in")
	stop := start(p)
	dl := readAll(t, addr, "dlq", 3, 10*time.Second)
	outs := readAll(t, addr, "out", 3, 10*time.Second)
	waitFor(t, "commit of all 6", 10*time.Second, func() bool { return committed(t, addr, "g", "in")[0] == 6 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(dl) != 3 || len(outs) != 3 {
		t.Fatalf("%d DLQ records and %d outputs, want 3 and 3", len(dl), len(outs))
	}
	want := []struct{ val, reason, offset, src string }{{"corrupt", "bad_magic", "1", "1"}, {"nan", "nan_frame", "3", "3"}, {"boom", "handler_error", "4", "4"}}
	for i, w := range want {
		r := dl[i]
		if string(r.Value) != w.val || string(r.Key) != "m1" {
			t.Errorf("DLQ %d: key %q value %q, want m1 %q", i, r.Key, r.Value, w.val)
		}
		for k, v := range map[string]string{HeaderReason: w.reason, HeaderTopic: "in", HeaderPartition: "0", HeaderOffset: w.offset, HeaderGroup: "g", "src": w.src} {
			if got := header(r, k); got != v {
				t.Errorf("DLQ %d: header %s = %q, want %q", i, k, got, v)
			}
		}
		if header(r, HeaderError) == "" {
			t.Errorf("DLQ %d: no error header", i)
		}
		if ts, err := time.Parse(time.RFC3339Nano, header(r, HeaderTime)); err != nil || time.Since(ts) > time.Minute {
			t.Errorf("DLQ %d: time header %q: %v", i, header(r, HeaderTime), err)
		}
	}
	for _, reason := range []string{"bad_magic", "nan_frame", "handler_error"} {
		if v := testutil.ToFloat64(m.DLQ.WithLabelValues(reason)); v != 1 {
			t.Errorf("dlq_total{reason=%q} = %v, want 1", reason, v)
		}
	}
}

// TestCommitWaitsForAck: while the broker withholds the acks of the
// outputs, the handler has seen every record but nothing is committed; once
// the acks arrive, the commit reaches the end.
func TestCommitWaitsForAck(t *testing.T) {
	c, addr := newCluster(t, 1, "in", "out", "dlq")
	produceN(t, addr, "in", 20, 1)
	var hold atomic.Bool
	hold.Store(true)
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if hold.Load() { // the inputs were produced before: only outputs are held
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	var handled atomic.Int64
	h := HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		handled.Add(1)
		return echo("out")(ctx, in, out)
	})
	p, _ := newProc(t, testConfig(addr, "g"), h, "in")
	stop := start(p)
	defer stop()
	var once sync.Once
	releaseAcks := func() { once.Do(func() { hold.Store(false); close(release) }) }
	defer releaseAcks() // runs before stop, even when the test fails
	waitFor(t, "all records handled", 10*time.Second, func() bool { return handled.Load() == 20 })
	time.Sleep(300 * time.Millisecond) // six commit intervals
	if got := committed(t, addr, "g", "in"); len(got) != 0 {
		t.Fatalf("committed %v while the outputs were not acknowledged", got)
	}
	releaseAcks()
	waitFor(t, "commit after ack", 10*time.Second, func() bool { return committed(t, addr, "g", "in")[0] == 20 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestFailedOutputNotCommitted: an output the broker rejects stops the
// processor before the record's offset is committed; a restart replays it.
func TestFailedOutputNotCommitted(t *testing.T) {
	_, addr := newCluster(t, 1, "in", "out", "dlq")
	produceN(t, addr, "in", 10, 1)
	bad := HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		if string(in.Value) == "5" {
			return append(out, &kgo.Record{Topic: "no-such-topic", Value: in.Value}), nil
		}
		return echo("out")(ctx, in, out)
	})
	p, _ := newProc(t, testConfig(addr, "g"), bad, "in")
	err := p.Run(context.Background()) // returns on the produce failure
	if !errors.Is(err, ErrProduce) {
		t.Fatalf("Run error = %v, want ErrProduce", err)
	}
	if c := committed(t, addr, "g", "in"); c[0] > 5 {
		t.Fatalf("committed offset %d past the record whose output failed (offset 5)", c[0])
	}
	var replayed atomic.Bool
	good := HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		if string(in.Value) == "5" {
			replayed.Store(true)
		}
		return echo("out")(ctx, in, out)
	})
	p2, _ := newProc(t, testConfig(addr, "g"), good, "in")
	stop := start(p2)
	waitFor(t, "commit after restart", 10*time.Second, func() bool { return committed(t, addr, "g", "in")[0] == 10 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !replayed.Load() {
		t.Fatal("record 5 was not processed again after the restart")
	}
}

// TestBackpressure: with the handler stuck, the processor takes at most
// MaxInFlight records from the broker and pauses fetching.
func TestBackpressure(t *testing.T) {
	_, addr := newCluster(t, 2, "in", "out", "dlq")
	produceN(t, addr, "in", 200, 5)
	gate := make(chan struct{})
	var maxSeen atomic.Int64
	var p *Processor
	h := HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		<-gate
		if n := int64(p.InFlight()); n > maxSeen.Load() {
			maxSeen.Store(n)
		}
		return echo("out")(ctx, in, out)
	})
	cfg := testConfig(addr, "g")
	cfg.MaxInFlight = 8
	p, m := newProc(t, cfg, h, "in")
	stop := start(p)
	waitFor(t, "fetch paused", 10*time.Second, func() bool { return testutil.ToFloat64(m.Paused) == 1 })
	time.Sleep(300 * time.Millisecond)
	if in := testutil.ToFloat64(m.RecordsIn.WithLabelValues("in")); in > 8 {
		t.Fatalf("took %v records with the handler stuck, bound is 8", in)
	}
	close(gate)
	if got := readAll(t, addr, "out", 200, 20*time.Second); len(got) != 200 {
		t.Fatalf("%d outputs, want 200", len(got))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if maxSeen.Load() > 8 || maxSeen.Load() == 0 {
		t.Fatalf("in-flight peaked at %d, want 1..8", maxSeen.Load())
	}
}

// tracking records which partitions it owns and every record it handled;
// Handle on a partition it does not own is a bug.
type tracking struct {
	t     *testing.T
	out   string
	mu    sync.Mutex
	owned map[int32]bool
	seen  map[int64]bool // value → handled
	hooks atomic.Int32
	delay time.Duration
}

func (h *tracking) Handle(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
	h.mu.Lock()
	if !h.owned[in.Partition] {
		h.t.Errorf("record of partition %d handled while not assigned", in.Partition)
	}
	v, _ := strconv.ParseInt(string(in.Value), 10, 64)
	h.seen[v] = true
	h.mu.Unlock()
	time.Sleep(h.delay)
	return echo(h.out)(ctx, in, out)
}

func (h *tracking) OnAssign(_ context.Context, a map[string][]int32) {
	h.hooks.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range a["in"] {
		h.owned[p] = true
	}
}

func (h *tracking) OnRevoke(_ context.Context, r map[string][]int32, _ bool) {
	h.hooks.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range r["in"] {
		delete(h.owned, p)
	}
}

func (h *tracking) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen)
}

// TestGroupKill: two members share the partitions; one is killed (no drain,
// no commit); every record is still processed at least once and appears on
// the output topic.
func TestGroupKill(t *testing.T) {
	_, addr := newCluster(t, 4, "in", "out", "dlq")
	const n = 400
	produceN(t, addr, "in", n, 16)
	ha := &tracking{t: t, out: "out", owned: map[int32]bool{}, seen: map[int64]bool{}, delay: 2 * time.Millisecond}
	hb := &tracking{t: t, out: "out", owned: map[int32]bool{}, seen: map[int64]bool{}, delay: 2 * time.Millisecond}
	cfg := testConfig(addr, "g")
	cfg.MaxInFlight = 20
	pa, _ := newProc(t, cfg, ha, "in")
	pb, _ := newProc(t, cfg, hb, "in")
	stopA := start(pa)
	stopB := start(pb)
	waitFor(t, "both members busy", 20*time.Second, func() bool { return ha.count() > 20 && hb.count() > 20 })
	pa.abort() // crash: no drain, no commit
	if err := stopA(); err != nil {
		t.Fatalf("killed member: %v", err)
	}
	var c, e map[int32]int64
	waitFor(t, "survivor finishes", 30*time.Second, func() bool {
		c, e = committed(t, addr, "g", "in"), endOffsets(t, addr, "in")
		if fmt.Sprint(c) != fmt.Sprint(e) && time.Now().Second()%5 == 0 {
			hb.mu.Lock()
			t.Logf("committed %v end %v b owns %v in-flight %d", c, e, hb.owned, pb.InFlight())
			hb.mu.Unlock()
			time.Sleep(time.Second)
		}
		return fmt.Sprint(c) == fmt.Sprint(e)
	})
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	for v := range int64(n) {
		if !ha.seen[v] && !hb.seen[v] {
			t.Fatalf("record %d never processed", v)
		}
	}
	outs := readAll(t, addr, "out", n, 10*time.Second)
	have := map[string]bool{}
	for _, r := range outs {
		have[string(r.Value)] = true
	}
	for v := range n {
		if !have[fmt.Sprintf("v=%d", v)] {
			t.Fatalf("no output for record %d", v)
		}
	}
	if ha.hooks.Load() == 0 || hb.hooks.Load() < 2 {
		t.Fatalf("assign/revoke hooks called %d and %d times", ha.hooks.Load(), hb.hooks.Load())
	}
	t.Logf("a handled %d, b handled %d, outputs %d (duplicates %d)", ha.count(), hb.count(), len(outs), len(outs)-n)
}

// TestFatal: a handler error wrapped with Fatal stops Run without a DLQ
// record and without committing that record.
func TestFatal(t *testing.T) {
	_, addr := newCluster(t, 1, "in", "out", "dlq")
	produceN(t, addr, "in", 3, 1)
	h := HandlerFunc(func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
		if string(in.Value) == "1" {
			return out, Fatal(errors.New("model store unreachable"))
		}
		return echo("out")(ctx, in, out)
	})
	p, m := newProc(t, testConfig(addr, "g"), h, "in")
	if err := p.Run(context.Background()); !errors.Is(err, ErrFatal) {
		t.Fatalf("Run error = %v, want ErrFatal", err)
	}
	if c := committed(t, addr, "g", "in")[0]; c > 1 {
		t.Fatalf("committed %d past the fatal record at offset 1", c)
	}
	if testutil.CollectAndCount(m.DLQ) != 0 {
		t.Fatal("fatal error went to the DLQ")
	}
}
