//go:build !linux

package stft

import "time"

// threadCPU is only measured on Linux; elsewhere the CPU-time metrics are
// not reported.
func threadCPU() (time.Duration, bool) { return 0, false }
