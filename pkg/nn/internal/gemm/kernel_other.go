//go:build !amd64 || noasm

package gemm

// Without assembly (other architectures, or -tags noasm) the pure-Go
// kernels are used.

func fmaPeak(n int) bool { return false }
