package gemm

import (
	"math/rand/v2"
	"testing"
)

// FuzzSgemm draws shapes, leading-dimension padding, transpositions,
// alpha/beta/bias/activation and the kernel set from the fuzzer's input and
// checks the product against the float64 triple loop:
//
//	go test -run '^$' -fuzz FuzzSgemm -fuzztime 60s ./pkg/nn/internal/gemm
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(6), uint8(16), uint8(8), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(1), uint8(33), uint8(257%256), uint8(0x0f), uint8(0x3), uint64(2))
	f.Add(uint8(13), uint8(7), uint8(1), uint8(0xf0), uint8(0x1c), uint64(3))
	f.Add(uint8(64), uint8(5), uint8(40), uint8(0x55), uint8(0x2a), uint64(4))
	sets := kernelSets()
	f.Fuzz(func(t *testing.T, m, n, k, pads, mode uint8, seed uint64) {
		tc := gemmCase{
			m: int(m%80) + 1, n: int(n%80) + 1, k: int(k),
			padA: int(pads & 3), padB: int(pads >> 2 & 3), padC: int(pads >> 4 & 3),
			transA: mode&1 != 0, transB: mode&2 != 0,
			alpha: []float32{1, -0.5, 0, 2}[mode>>2&3],
			beta:  []float32{0, 1, 0.25, -1}[mode>>4&3],
			bias:  mode&0x40 != 0,
		}
		if mode&0x80 != 0 {
			tc.act = ReLU
		}
		tc.nanC = tc.beta == 0
		ks := sets[int(seed%uint64(len(sets)))]
		tc.check(t, ks, rand.New(rand.NewPCG(seed, 7)))
	})
}
