//go:build !linux

package fft

import "time"

// threadCPU is only measured on Linux; elsewhere the CPU-time metrics are
// not reported.
func threadCPU() (time.Duration, bool) { return 0, false }
