package par

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// schedstat is /proc/thread-self/schedstat as a C string (converted once,
// so that opening it allocates nothing).
var schedstat, _ = unix.BytePtrFromString("/proc/thread-self/schedstat")

// A threadStat reads the run-queue delay of the OS thread the calling
// goroutine runs on: the total time the thread was ready to run but waited
// for a CPU (the second field of /proc/<pid>/task/<tid>/schedstat). Time a
// thread sleeps (an idle Go thread) does not count, so this measures what
// other threads take from it, not what the Go scheduler does. The file of
// a thread is kept open and reread; it is reopened when the goroutine
// moved to another thread.
type threadStat struct {
	fd, tid int
}

// delay returns the calling thread's run-queue delay and its id, or false
// when the kernel does not provide it.
func (t *threadStat) delay() (time.Duration, int, bool) {
	tid := unix.Gettid()
	if t.fd <= 0 || tid != t.tid {
		if t.fd > 0 {
			unix.Close(t.fd)
		}
		atFDCWD := unix.AT_FDCWD
		fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(schedstat)),
			unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
		if errno != 0 {
			t.fd = -1
			return 0, 0, false
		}
		t.fd, t.tid = int(fd), tid
	}
	var buf [96]byte
	n, err := unix.Pread(t.fd, buf[:], 0)
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	// "<on-cpu ns> <run-queue delay ns> <time slices>\n"
	f, v := 0, int64(0)
	for _, c := range buf[:n] {
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + int64(c-'0')
		case f == 0:
			f, v = 1, 0
		default:
			return time.Duration(v), tid, true
		}
	}
	return 0, 0, false
}
