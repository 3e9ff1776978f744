//go:build !unix

package gemm

import "time"

func procCPU() (time.Duration, bool) { return 0, false }
