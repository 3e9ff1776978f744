package demo

import (
	"context"

	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/wire"
)

// tap is an ingest.Sink that records what goes through it (the
// spectrogram, as spectro computes it, and the samples) before passing each
// frame on. It follows spectro's continuity rule for time: a frame that
// does not start where the run's samples end (within 2 ms) starts a new
// run, as a recording with gaps (FEMTO snapshots) does in the stream.
// One goroutine sends through a tap; its unit is read after it is done.
type tap struct {
	next ingest.Sink
	u    *unit

	started  bool
	runStart int64
	runN     int64
}

var _ ingest.Sink = (*tap)(nil)

const tolerance = 2e6 // ns, spectro's default -time-tolerance

// Send records f and sends it on.
func (t *tap) Send(ctx context.Context, f *wire.RawFrame) error {
	x := f.Float32
	if f.Encoding == wire.Int16 {
		x = make([]float32, len(f.Int16))
		for i, v := range f.Int16 {
			x[i] = float32(v) * f.Scale
		}
	}
	expect := t.runStart + patch.SamplesToNs(t.runN, f.SampleRate)
	if !t.started || f.TimestampNs-expect > tolerance || expect-f.TimestampNs > tolerance {
		if t.started {
			t.u.spec.end()
		} else {
			t.u.FirstNs = f.TimestampNs
		}
		t.started, t.runStart, t.runN = true, f.TimestampNs, 0
		t.u.spec.start(f.TimestampNs)
	}
	t.u.spec.write(x)
	t.runN += int64(len(x))
	t.u.Samples += int64(len(x))
	t.u.sentNs.Add(patch.SamplesToNs(int64(len(x)), f.SampleRate))
	t.u.EndNs = t.runStart + patch.SamplesToNs(t.runN, f.SampleRate)
	return t.next.Send(ctx, f)
}

// Flush flushes the next sink.
func (t *tap) Flush(ctx context.Context) error { return t.next.Flush(ctx) }
