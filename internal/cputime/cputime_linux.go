package cputime

import (
	"time"

	"golang.org/x/sys/unix"
)

// Process returns the CPU time (user + system, all threads) the process
// has used, with nanosecond resolution (CLOCK_PROCESS_CPUTIME_ID). ok is
// false where it cannot be read.
func Process() (d time.Duration, ok bool) { return clock(unix.CLOCK_PROCESS_CPUTIME_ID) }

// Thread returns the CPU time the calling OS thread has used
// (CLOCK_THREAD_CPUTIME_ID); callers lock the goroutine to its thread
// (runtime.LockOSThread) around what they measure. ok is false where it
// cannot be read (every system but Linux).
func Thread() (d time.Duration, ok bool) { return clock(unix.CLOCK_THREAD_CPUTIME_ID) }

func clock(id int32) (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
