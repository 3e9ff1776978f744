package stft

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/mhmstream/mhm/internal/cputime"
)

// benchCases are the two speed targets of issue 2 (docs/features.md).
var benchCases = []struct {
	name string
	rate float64
	cfg  Config
}{
	{"16k_n1024_h512_mel128_db", 16000, Config{NFFT: 1024, Hop: 512, Center: true, Mels: 128, Log: DB, Eps: 0x1p-23}},
	{"25k6_n256_h128_power_db", 25600, Config{NFFT: 256, Hop: 128, Center: true, Log: DB, Eps: 1e-10}},
}

// BenchmarkThroughput streams one second of signal per op, in 4096-sample
// chunks, and reports seconds of signal per wall-clock second ("s/s") and per
// second of the benchmark thread's CPU time ("s/cpu-s": per core, robust to
// other processes on the machine).
func BenchmarkThroughput(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(c.rate, c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			x := noise(rand.New(rand.NewPCG(1, 1)), int(c.rate))
			var sink float32
			emit := func(_ int64, f []float32) { sink += f[0] }
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			c0, ok := cputime.Thread()
			for range b.N {
				for i := 0; i < len(x); i += 4096 {
					s.Write(x[i:min(i+4096, len(x))], emit)
				}
			}
			c1, _ := cputime.Thread()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "s/s")
			if ok {
				b.ReportMetric(float64(b.N)/(c1-c0).Seconds(), "s/cpu-s")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(s.Frames()), "ns/frame")
			_ = sink
		})
	}
}

// BenchmarkFrame writes exactly one hop per op, so each op computes one frame:
// allocs/op is the allocations per frame (0).
func BenchmarkFrame(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(c.rate, c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			x := noise(rand.New(rand.NewPCG(1, 1)), 64*c.cfg.Hop)
			s.Write(x[:c.cfg.NFFT], nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := (i % 64) * c.cfg.Hop
				s.Write(x[j:j+c.cfg.Hop], nil)
			}
		})
	}
}
