//go:build !linux

package par

import "time"

// threadStat is not available here: the pool then relies on the callers'
// waits alone to detect contention.
type threadStat struct{}

func (t *threadStat) delay() (time.Duration, int, bool) { return 0, 0, false }
