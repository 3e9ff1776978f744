package wire_test

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/mhmstream/mhm/pkg/wire"
)

// A two-sample int16 frame, byte by byte (see docs/wire.md).
func ExampleAppendRawFrame() {
	f := &wire.RawFrame{
		Machine: "m1", Sensor: "x", SampleRate: 16000,
		TimestampNs: 1, Seq: 2,
		Encoding: wire.Int16, Scale: 0.5, Int16: []int16{1, -2},
	}
	b := wire.AppendRawFrame(nil, f)
	fmt.Print(hex.Dump(b))
	var g wire.RawFrame
	if err := wire.DecodeRawFrame(&g, b); err != nil {
		panic(err)
	}
	fmt.Println(g.Machine, g.Sensor, g.SampleRate, g.Seq, g.AppendValues(nil))
	// Output:
	// 00000000  52 01 01 02 6d 31 01 78  00 00 00 00 00 40 cf 40  |R...m1.x.....@.@|
	// 00000010  01 00 00 00 00 00 00 00  02 00 00 00 00 00 00 00  |................|
	// 00000020  00 00 00 3f 02 00 00 00  01 00 fe ff              |...?........|
	// m1 x 16000 2 [0.5 -1]
}

// A 1×2 patch, byte by byte.
func ExampleAppendPatch() {
	p := &wire.Patch{
		Tag:         wire.Tag{Machine: "m", Sensor: "s", Band: 1, LowHz: 0, HighHz: 8000, Frame: 3, StartNs: 4, DurationNs: 5},
		FeatureHash: "h", T: 1, F: 2, Values: []float32{1, -1},
	}
	fmt.Print(hex.Dump(wire.AppendPatch(nil, p)))
	// Output:
	// 00000000  50 01 01 6d 01 73 01 68  01 00 00 00 00 00 00 00  |P..m.s.h........|
	// 00000010  00 00 00 00 00 00 00 00  00 40 bf 40 03 00 00 00  |.........@.@....|
	// 00000020  00 00 00 00 04 00 00 00  00 00 00 00 05 00 00 00  |................|
	// 00000030  00 00 00 00 01 00 00 00  02 00 00 00 00 00 80 3f  |...............?|
	// 00000040  00 00 80 bf                                       |....|
}

// A frame in the JSON form the HTTP API accepts; errors name their reason.
func ExampleDecodeRawFrameJSON() {
	var f wire.RawFrame
	err := wire.DecodeRawFrameJSON(&f, []byte(`{"machine":"pump-7","sensor":"de","sample_rate":16000,
		"timestamp_ns":"1700000000000000000","seq":9,"samples":[0.25,-0.5]}`))
	fmt.Println(err, f.Machine, f.Encoding, f.Float32)
	err = wire.DecodeRawFrameJSON(&f, []byte(`{"machine":"pump-7","sample_rate":16000,"samples":[1e40]}`))
	fmt.Println(wire.Reason(err))
	// Output:
	// <nil> pump-7 float32 [0.25 -0.5]
	// non_finite
}

// An anomaly event as alerting tools receive it.
func ExampleEvent() {
	e := &wire.Event{
		Machine: "pump-7", Sensor: "de",
		WindowStartNs: 1700000000000000000, WindowEndNs: 1700000010000000000,
		Score: 12.5, Threshold: 5, ScoreType: "mse", ModelVersion: "pump-7@3",
		Bands: []wire.BandScore{{Band: 3, LowHz: 2000, HighHz: 4000, Score: 30.25}},
	}
	e.Complete()
	b, err := wire.AppendEvent(nil, e)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
	// Output:
	// {"event_id":"40d331cef4c981cfec4a607b97d113ae","machine":"pump-7","sensor":"de","window_start":"2023-11-14T22:13:20Z","window_end":"2023-11-14T22:13:30Z","window_start_ns":1700000000000000000,"window_end_ns":1700000010000000000,"score":12.5,"threshold":5,"score_type":"mse","model_version":"pump-7@3","severity":2.5,"bands":[{"band":3,"low_hz":2000,"high_hz":4000,"score":30.25}]}
}
