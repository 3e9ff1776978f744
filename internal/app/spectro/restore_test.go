package spectro

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/wire"
)

// value returns the value of an unlabelled counter or gauge on reg (0 when
// absent).
func value(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

type patchKey struct {
	machine string
	frame   int64
	band    int
}

// TestRestoreHandOver: two workers share the raw partitions; one is killed
// mid-stream (no drain, no final commit); the survivor rebuilds the STFT
// state of its new partitions from the records before the committed offset,
// so every patch of every machine that comes out, before or after the
// hand-over, is the one an uninterrupted run computes (tag and values), and
// none is missing. Without the restore the survivor would start the
// machines of the killed worker on a new grid at its first frame: other
// tags, other values, and the patches straddling the hand-over lost.
func TestRestoreHandOver(t *testing.T) {
	h := newHarness(t, 4)
	cfg := feature.Vibration(rate).WithDefaults()
	hash := cfg.Hash()
	const t0 = int64(1_700_000_000_000_000_000)
	const fs, nframes, cut = 800, 30, 12 // 0.1 s frames, 3 s per machine, kill after 1.2 s
	machines := []string{"a", "b", "c", "d", "e", "f"}
	want := map[patchKey]*patch.Patch{}
	recs := map[string][][]byte{}
	for i, m := range machines {
		x := signalOf(uint64(20+i), fs*nframes)
		recs[m] = frames(m, "s", x, fs, t0+int64(i)*1e6, 0)
		for _, p := range offline(t, cfg, x, m, "s", t0+int64(i)*1e6, false) {
			want[patchKey{m, p.Tag.Frame, p.Tag.Band}] = p
		}
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(h.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	produce := func(lo, hi int) {
		var rs []*kgo.Record
		for i, m := range machines { // machine i on partition i%4: every partition has data
			for _, v := range recs[m][lo:hi] {
				rs = append(rs, &kgo.Record{Topic: "mhm.raw", Partition: int32(i % 4), Key: []byte(m), Value: v})
			}
		}
		if err := pcl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(h.addr), kgo.ConsumeTopics("mhm.patches"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[patchKey]int{}
	readUntil := func(what string, cond func() bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s (%d distinct patches)", what, len(got))
			}
			pctx, pc := context.WithTimeout(ctx, 200*time.Millisecond)
			fs := rd.PollFetches(pctx)
			pc()
			fs.EachRecord(func(r *kgo.Record) {
				var p wire.Patch
				if err := wire.DecodePatch(&p, r.Value); err != nil {
					t.Fatal(err)
				}
				k := patchKey{p.Tag.Machine, p.Tag.Frame, p.Tag.Band}
				w := want[k]
				if w == nil {
					t.Fatalf("%s: unexpected patch %+v", what, p.Tag)
				}
				samePatches(t, k.machine, []wire.Patch{p}, []*patch.Patch{w}, hash)
				got[k]++
			})
		}
	}
	inPhase1 := 0 // patches an uninterrupted worker has emitted after phase 1
	for i, m := range machines {
		inPhase1 += len(offline(t, cfg, signalOf(uint64(20+i), fs*nframes)[:cut*fs], m, "s", t0+int64(i)*1e6, false))
	}

	killed := h.cfg
	killed.ShutdownTimeout = time.Nanosecond // killed: no drain, no final commit
	_, regA, stopA := h.run(Config{Stream: killed})
	_, regB, stopB := h.run(Config{})
	defer stopB()
	waitAssigned := time.Now().Add(15 * time.Second)
	for value(regA, "mhm_stream_assigned_partitions") == 0 || value(regB, "mhm_stream_assigned_partitions") == 0 {
		if time.Now().After(waitAssigned) {
			t.Fatal("both members not assigned")
		}
		time.Sleep(20 * time.Millisecond)
	}
	produce(0, cut)
	readUntil("phase 1 patches", func() bool { return len(got) >= inPhase1 })
	time.Sleep(200 * time.Millisecond) // let periodic commits catch up
	stopA()
	if value(regA, "mhm_spectro_frames_total") == 0 {
		t.Fatal("the killed worker handled no frame: it had no partitions")
	}
	produce(cut, nframes)
	readUntil("every patch", func() bool { return len(got) == len(want) })
	if v := value(regB, "mhm_spectro_restored_records_total"); v == 0 {
		t.Fatal("the survivor restored nothing")
	}
}

// TestRestoreShortCap: when the records re-read do not reach back to the
// start of a stream's run, the new owner starts the run at the first frame
// re-read (the documented fallback): its patches are exactly those of a
// recording beginning at that frame, minus the ones the re-read frames
// complete, so the hand-over itself is covered (no patch lost around it)
// but on a grid shifted against the old owner's.
func TestRestoreShortCap(t *testing.T) {
	h := newHarness(t, 1)
	cfg := feature.Vibration(rate).WithDefaults()
	hash := cfg.Hash()
	const t0 = int64(1_700_000_000_000_000_000)
	const fs, nframes, cut, reread = 800, 20, 10, 3
	x := signalOf(40, fs*nframes)
	fr := frames("m", "s", x, fs, t0, 0)

	_, _, stopA := h.run(Config{})
	h.produce("m", fr[:cut]...)
	nA := len(offline(t, cfg, x[:cut*fs], "m", "s", t0, false))
	h.read("mhm.patches", nA)
	stopA() // graceful: everything committed

	_, regB, stopB := h.run(Config{RestoreRecords: reread})
	defer stopB()
	h.produce("m", fr[cut:]...)
	a := cut - reread // the first frame re-read
	ta := t0 + patch.SamplesToNs(int64(a*fs), rate)
	run := offline(t, cfg, x[a*fs:], "m", "s", ta, false)
	before := len(offline(t, cfg, x[a*fs:cut*fs], "m", "s", ta, false))
	want := run[before:]
	got := patches(t, h.read("mhm.patches", nA+len(want)))["m/s"]
	samePatches(t, "after the hand-over", got[nA:], want, hash)
	if handOver := t0 + patch.SamplesToNs(cut*fs, rate); want[0].Tag.StartNs >= handOver {
		t.Fatalf("first patch after the hand-over starts %d ns after it: a gap", want[0].Tag.StartNs-handOver)
	}
	if v := value(regB, "mhm_spectro_restored_records_total"); v != reread {
		t.Fatalf("restored %v records, want %d", v, reread)
	}
}
