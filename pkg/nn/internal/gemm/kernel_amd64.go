//go:build amd64 && !noasm

package gemm

import "golang.org/x/sys/cpu"

// avx2Kernels is the AVX2+FMA kernel set: 6×16 tiles (12 ymm accumulators,
// two B vectors and one broadcast A value: 15 of the 16 ymm registers) and
// 6×8 tiles for narrow remainders, each with 1..6-row variants for the
// bottom edge; 1..3×4 dot kernels for A*B^T with few rows; a 1×64 kernel
// for a single row reading B in place.
var avx2Kernels = &kernelSet{
	name:   "avx2",
	mr:     6,
	widths: []int{16, 8},
	kern: [][]kernelFunc{
		{avx2_1x16, avx2_1x8},
		{avx2_2x16, avx2_2x8},
		{avx2_3x16, avx2_3x8},
		{avx2_4x16, avx2_4x8},
		{avx2_5x16, avx2_5x8},
		{avx2_6x16, avx2_6x8},
	},
	dot: []dotFunc{avx2_dot1x4, avx2_dot2x4, avx2_dot3x4},
	// Up to 16 rows: with B^T packed by 8×8 AVX transposes, the 6×16
	// kernels beat the dot kernels from about 16 rows (the folded DCASE
	// network at batch 64: 560 µs packed against 690-730 µs dot, one
	// core; equal at 16 rows).
	dotMaxM:  16,
	row:      avx2_1x64,
	rowWidth: 64,
	// kc: the 16-wide B sliver (16 KiB) and the 6-row A sliver (6 KiB)
	// stay in Zen 3's 32 KiB L1; mc: the A block (144 KiB) in its 512 KiB
	// L2; nc: the B panel (2 MiB) in L3.
	mc: 144, kc: 256, nc: 2048,
}

// avx512Kernels is the AVX-512F set, generated from the same code as the
// AVX2 one at twice the vector width: 12×32 tiles (24 zmm accumulators)
// and 12×16 for narrow remainders, with the AVX2 dot kernels. It has never
// run on real AVX-512 hardware (the machines of this project have none);
// it passes the gemm tests on Bochs's emulated Skylake-X
// (scripts/avx512emu, docs/avx512-emu.md). It is used only when the CPU
// reports AVX-512F and the self-check at start-up agrees with the float64
// reference (see docs/kernels.md); otherwise AVX2 is used.
var avx512Kernels = &kernelSet{
	name:   "avx512",
	mr:     12,
	widths: []int{32, 16},
	kern: [][]kernelFunc{
		{avx512_1x32, avx512_1x16},
		{avx512_2x32, avx512_2x16},
		{avx512_3x32, avx512_3x16},
		{avx512_4x32, avx512_4x16},
		{avx512_5x32, avx512_5x16},
		{avx512_6x32, avx512_6x16},
		{avx512_7x32, avx512_7x16},
		{avx512_8x32, avx512_8x16},
		{avx512_9x32, avx512_9x16},
		{avx512_10x32, avx512_10x16},
		{avx512_11x32, avx512_11x16},
		{avx512_12x32, avx512_12x16},
	},
	dot:     []dotFunc{avx2_dot1x4, avx2_dot2x4, avx2_dot3x4},
	dotMaxM: 64,
	// kc = 128 keeps the 32-wide B sliver (16 KiB) and the 12-row A
	// sliver (6 KiB) in a 32 KiB L1; not tuned (no machine to tune on).
	mc: 144, kc: 128, nc: 2048,
}

// hasAVX2 reports whether the CPU (and the OS) support the AVX2 kernels.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports whether the CPU and the OS support the AVX-512 kernels
// (x/sys/cpu clears the flags when the OS does not save zmm state).
var hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F

// chooseKernels returns the widest assembly set that the CPU supports and
// that passes its self-check, else the pure-Go set.
func chooseKernels() *kernelSet {
	for _, c := range []struct {
		ok bool
		ks *kernelSet
	}{{hasAVX512, avx512Kernels}, {hasAVX2, avx2Kernels}} {
		if c.ok && selfCheck(c.ks) {
			return c.ks
		}
	}
	return goKernels
}

// fmaPeak runs n iterations of 192 float32 flops at the CPU's FMA
// throughput; it measures the ceiling that the kernels are compared with.
// It reports false when the CPU has no AVX2+FMA.
func fmaPeak(n int) bool {
	if !hasAVX2 {
		return false
	}
	fmaPeakAVX2(n)
	return true
}
