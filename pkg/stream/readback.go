package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadBack reads again, for each partition of topic in parts, the records
// just before the committed offset C of the consumer group cfg.Group: those
// at offsets [max(S, C−limit), C), S being the partition's log start. fn is
// called with each, in offset order per partition, on the calling
// goroutine. It returns the number of records passed to fn.
//
// It is what a worker calls from AssignHook.OnAssign to rebuild the state
// the previous owner of a partition held in memory (detect's open windows,
// spectro's STFT), since that state depends on records committed long
// before the hand-over. It uses its own short-lived client (cfg's
// connection settings plus opts), joins no group and commits nothing.
// A partition without a committed offset (a new group) or with C ≤ S is
// skipped; limit ≤ 0 reads nothing. ctx bounds the whole read: when it
// ends first, ReadBack returns the records read so far with ctx's error
// wrapped (what fn received is still valid, only incomplete).
//
// A record at C−1 that the broker never delivers (a transaction marker)
// leaves its partition unfinished until ctx ends; mhm's producers are
// idempotent, not transactional, so its topics have none.
func ReadBack(ctx context.Context, cfg Config, topic string, parts []int32, limit int, fn func(*kgo.Record), opts ...kgo.Opt) (int, error) {
	if limit <= 0 || len(parts) == 0 {
		return 0, nil
	}
	conn, err := cfg.ClientOpts()
	if err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(append(append(conn, kgo.FetchMaxWait(100*time.Millisecond)), opts...)...)
	if err != nil {
		return 0, fmt.Errorf("stream: read back: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	offs, err := adm.FetchOffsets(ctx, cfg.Group)
	if err != nil {
		return 0, fmt.Errorf("stream: read back: fetch committed offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("stream: read back: list start offsets: %w", err)
	}
	from := map[int32]kgo.Offset{}
	until := map[int32]int64{}
	for _, p := range parts {
		o, ok := offs.Lookup(topic, p)
		if !ok || o.Err != nil || o.At <= 0 {
			continue
		}
		lo := int64(0)
		if s, ok := starts.Lookup(topic, p); ok && s.Err == nil {
			lo = s.Offset
		}
		if f := max(lo, o.At-int64(limit)); f < o.At {
			from[p] = kgo.NewOffset().At(f)
			until[p] = o.At
		}
	}
	if len(from) == 0 {
		return 0, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: from})
	n := 0
	for len(until) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("stream: read back: after %d records: %w", n, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := until[r.Partition]
			if !ok || r.Topic != topic {
				return
			}
			if r.Offset < end {
				fn(r)
				n++
			}
			if r.Offset+1 >= end {
				delete(until, r.Partition)
			}
		})
	}
	return n, nil
}
