//go:build !amd64 || noasm

package gemm

// Without assembly (other architectures, or -tags noasm) the pure-Go
// kernels are used.

func chooseKernels() *kernelSet { return goKernels }

func fmaPeak(n int) bool { return false }
