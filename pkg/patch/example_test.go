package patch_test

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/patch"
)

// A stream of 4-bin frames cut into 2-frame × 2-bin patches with a hop of 2
// frames: two bands per position, emitted as soon as the second frame of a
// position arrives.
func ExampleCutter() {
	l := patch.Layout{
		LowHz:  []float64{0, 100, 200, 300},
		HighHz: []float64{100, 200, 300, 400},
		Rate:   1000, Hop: 100, // a frame every 0.1 s
	}
	c, err := patch.NewCutter(patch.Config{Frames: 2, Bins: 2, Hop: 2}, l, "pump-3", "acc-x", 0)
	if err != nil {
		panic(err)
	}
	for k := range 5 {
		f := float32(10 * k)
		c.Push([]float32{f, f + 1, f + 2, f + 3}, func(p *patch.Patch) {
			fmt.Printf("frame %d band %d [%g-%g Hz] t=%dms+%dms %v\n",
				p.Frame, p.Band, p.LowHz, p.HighHz, p.StartNs/1e6, p.DurationNs/1e6, p.Values)
		})
	}
	// Output:
	// frame 0 band 0 [0-200 Hz] t=0ms+200ms [0 1 10 11]
	// frame 0 band 1 [200-400 Hz] t=0ms+200ms [2 3 12 13]
	// frame 2 band 0 [0-200 Hz] t=200ms+200ms [20 21 30 31]
	// frame 2 band 1 [200-400 Hz] t=200ms+200ms [22 23 32 33]
}
