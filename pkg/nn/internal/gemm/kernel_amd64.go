//go:build amd64 && !noasm

package gemm

import "golang.org/x/sys/cpu"

// avx2Kernels is the AVX2+FMA kernel set: 6×16 tiles (12 ymm accumulators,
// two B vectors and one broadcast A value: 15 of the 16 ymm registers) and
// 6×8 tiles for narrow remainders, each with 1..6-row variants for the
// bottom edge.
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
	dot:     []dotFunc{avx2_dot1x4, avx2_dot2x4, avx2_dot3x4},
	dotMaxM: 64,
	mc:      144, kc: 256, nc: 2048,
}

// hasAVX2 reports whether the CPU (and the OS) support the AVX2 kernels.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	if hasAVX2 {
		defaultKernels = avx2Kernels
	}
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
