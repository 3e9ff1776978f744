package stream

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReadBack: with the group committed at 10 on partition 0, at 3 on
// partition 1 and not at all on partition 2, a read-back of at most 5
// records gives offsets 5..9 of partition 0 and 0..2 of partition 1, in
// order, and nothing of partition 2 or of a partition not asked for.
func TestReadBack(t *testing.T) {
	_, addr := newCluster(t, 4, "in")
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var rs []*kgo.Record
	for p := int32(0); p < 4; p++ {
		for i := 0; i < 12; i++ {
			rs = append(rs, &kgo.Record{Topic: "in", Partition: p, Value: fmt.Appendf(nil, "%d/%d", p, i)})
		}
	}
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "in", Partition: 0, At: 10, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "in", Partition: 1, At: 3, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "in", Partition: 3, At: 12, LeaderEpoch: -1})
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, "g", offs); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(addr, "g")
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := map[int32][]string{}
	n, err := ReadBack(rctx, cfg, "in", []int32{0, 1, 2}, 5, func(r *kgo.Record) {
		got[r.Partition] = append(got[r.Partition], string(r.Value))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]string{0: {"0/5", "0/6", "0/7", "0/8", "0/9"}, 1: {"1/0", "1/1", "1/2"}}
	if n != 8 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back %d records %v, want 8: %v", n, got, want)
	}
	n, err = ReadBack(rctx, cfg, "in", []int32{0}, 0, func(*kgo.Record) { t.Fatal("limit 0 read a record") })
	if n != 0 || err != nil {
		t.Fatalf("limit 0: %d, %v", n, err)
	}
}
