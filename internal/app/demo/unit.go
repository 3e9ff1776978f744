package demo

import (
	"os"
	"sync/atomic"

	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/wire"
)

// unit is one monitored machine of the demo: what it is, its model, what
// was injected into it, and what the pipeline said about it.
type unit struct {
	ID     string
	Kind   string // "fan", "bearing (FEMTO Bearing2_1)", ...
	Sensor string // sensor name in the frames
	Rate   float64

	ModelPath string
	Meta      model.Meta // the artifact's metadata (threshold, decision rule, features)
	FitLine   string     // what train fit said about the model
	FitArgs   []string   // the train fit command line

	Faults []truth // the ground truth, if known

	spec *specStore // the spectrogram of what was streamed

	// Stream bounds (Unix ns) and the samples sent.
	FirstNs, EndNs int64
	Samples        int64
	sentNs         atomic.Int64 // signal sent so far, for progress lines

	// From the pipeline, in arrival order.
	Events []wire.Event
	Scores []wire.Score
}

// truth is one injected fault, in Unix ns of the stream's clock.
type truth struct {
	Fault      string // e.g. "outer-race"
	StartNs    int64
	VisibleNs  int64 // when it reaches the clear level; 0: never during the stream
	Detectable bool
}

// lastWindowEnd is the end of the last decision window the detector can
// decide for this stream (specStore.lastDecided with the model's window).
func (u *unit) lastWindowEnd() int64 {
	if u.spec == nil {
		return 0
	}
	w := u.Meta.Decision.Window
	return u.spec.lastDecided(w.LengthNs, w.HopNs)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// mkdir creates dir and its parents.
func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
