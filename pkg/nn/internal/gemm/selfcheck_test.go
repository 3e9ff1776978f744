package gemm

import (
	"testing"
	"time"
)

// TestSelfCheck checks that the start-up self-check accepts every kernel
// set that runs here and rejects a broken one, so that the fallback from
// an untested kernel set (AVX-512) works.
func TestSelfCheck(t *testing.T) {
	for _, ks := range kernelSets() {
		t0 := time.Now()
		if !selfCheck(ks) {
			t.Errorf("%s: self-check failed", ks.name)
		}
		t.Logf("%s: self-check took %v", ks.name, time.Since(t0))
	}
	if got := Kernels(); got != kernels().name {
		t.Errorf("Kernels() = %q, want %q", got, kernels().name)
	}
	// A set whose widest full tile adds 1 to one element of C.
	broken := *kernels()
	broken.name = "broken"
	broken.kern = make([][]kernelFunc, len(kernels().kern))
	copy(broken.kern, kernels().kern)
	last := len(broken.kern) - 1
	row := append([]kernelFunc(nil), broken.kern[last]...)
	good := row[0]
	row[0] = func(kc int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int) {
		good(kc, a, rsa, csa, b, rsb, c, ldc, alpha, beta, bias, flags)
		*at(c, ldc+1) += 1
	}
	broken.kern[last] = row
	if selfCheck(&broken) {
		t.Error("self-check accepted a kernel that corrupts C")
	}
}
