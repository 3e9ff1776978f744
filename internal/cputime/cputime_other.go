//go:build !unix

package cputime

import "time"

// Process is only measured on Unix systems.
func Process() (d time.Duration, ok bool) { return 0, false }

// Thread is only measured on Linux.
func Thread() (d time.Duration, ok bool) { return 0, false }
