package cputime

import (
	"runtime"
	"testing"
	"time"
)

// spin burns about d of CPU on the calling goroutine.
func spin(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

func TestProcessAndThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, pok := Process()
	t0, tok := Thread()
	spin(30 * time.Millisecond)
	p1, _ := Process()
	t1, _ := Thread()
	if runtime.GOOS != "windows" && !pok {
		t.Fatal("process CPU time not available on a Unix system")
	}
	if runtime.GOOS == "linux" && !tok {
		t.Fatal("thread CPU time not available on Linux")
	}
	// 30 ms of wall time spinning is at least 10 ms of CPU even on a busy
	// machine; the thread's share cannot exceed the process's.
	if pok && p1-p0 < 10*time.Millisecond {
		t.Errorf("process CPU grew by %v over 30 ms of spinning", p1-p0)
	}
	if tok && (t1-t0 < 10*time.Millisecond || t1-t0 > p1-p0+time.Millisecond) {
		t.Errorf("thread CPU grew by %v (process %v) over 30 ms of spinning", t1-t0, p1-p0)
	}
}
