//go:build !unix

package vae

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
