// Package vec holds the elementwise float32 kernels of pkg/nn's layers,
// losses and optimisers: BatchNorm's per-channel sums and its forward and
// backward passes, the ReLU gradient mask, MSE with its gradient, and the
// Adam update. They are the passes over the activations that the GEMM
// (package gemm) does not cover.
//
// On amd64 with AVX2 and FMA each runs as a hand-written assembly loop
// over 8 (16 for the column sums) floats at a time; elsewhere, or with
// -tags noasm, as the pure-Go loop next to it, which is also the
// reference the tests compare the assembly with. Sums are accumulated in
// float64. Kernels reports which set is in use.
//
// Matrices are row-major n×c with row stride c. Every function panics if
// a slice is shorter than its shape needs, and allocates nothing.
package vec
