package sim

import (
	"fmt"
	"testing"
)

// BenchmarkRead measures generation speed per preset (healthy, and with
// every fault kind active) in seconds of signal per second of one core.
func BenchmarkRead(b *testing.B) {
	run := func(b *testing.B, s Spec, chunk int) {
		m, err := New(s, 1)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]float32, chunk)
		b.ReportAllocs()
		b.SetBytes(int64(4 * chunk))
		for b.Loop() {
			m.Read(buf)
		}
		b.ReportMetric(float64(m.Samples())/s.Rate/b.Elapsed().Seconds(), "signal-s/s")
	}
	for _, k := range Kinds() {
		b.Run(k.String(), func(b *testing.B) { run(b, Preset(k), 1024) })
	}
	b.Run("gearbox-all-faults", func(b *testing.B) { run(b, busy(), 1024) })
	for _, chunk := range []int{32, 4096} {
		b.Run(fmt.Sprint("fan-chunk", chunk), func(b *testing.B) { run(b, Preset(Fan), chunk) })
	}
}
