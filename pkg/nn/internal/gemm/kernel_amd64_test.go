//go:build amd64 && !noasm

package gemm

import "testing"

// TestKernelChoice checks the run-time choice on this CPU: AVX-512 only
// when the CPU has it, AVX2 when it has AVX2+FMA, and never the pure-Go
// kernels on a CPU with AVX2 (the self-check of a correct set must pass).
func TestKernelChoice(t *testing.T) {
	got := Kernels()
	t.Logf("CPU: AVX2+FMA %v, AVX-512F %v; kernels %q", hasAVX2, hasAVX512, got)
	switch {
	case got == "avx512" && !hasAVX512:
		t.Errorf("AVX-512 kernels chosen on a CPU without AVX-512F")
	case hasAVX2 && !hasAVX512 && got != "avx2":
		t.Errorf("kernels %q on a CPU with AVX2+FMA, want avx2", got)
	case !hasAVX2 && got != "go":
		t.Errorf("kernels %q on a CPU without AVX2+FMA, want go", got)
	}
}
