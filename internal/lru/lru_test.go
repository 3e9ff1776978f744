package lru

import (
	"strings"
	"testing"
	"time"
)

type state struct {
	links Links[state]
	id    int
}

func (s *state) LRU() *Links[state] { return &s.links }

func order(l *List[state, *state]) []int {
	var ids []int
	for e := l.Newest(); e != nil; e = e.links.next {
		ids = append(ids, e.id)
	}
	return ids
}

func TestOrderTouchRemove(t *testing.T) {
	var l List[state, *state]
	if l.Oldest() != nil || l.Newest() != nil || l.Len() != 0 {
		t.Fatal("zero list not empty")
	}
	t0 := time.Unix(0, 0)
	s := []*state{{id: 0}, {id: 1}, {id: 2}, {id: 3}}
	for i, e := range s {
		l.Push(e, t0.Add(time.Duration(i)*time.Second))
	}
	check := func(want ...int) {
		t.Helper()
		got := order(&l)
		if len(got) != len(want) || l.Len() != len(want) {
			t.Fatalf("order %v (len %d), want %v", got, l.Len(), want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("order %v, want %v", got, want)
			}
		}
		if len(want) > 0 && (l.Oldest().id != want[len(want)-1] || l.Newest().id != want[0]) {
			t.Fatalf("oldest %d newest %d, order %v", l.Oldest().id, l.Newest().id, want)
		}
	}
	check(3, 2, 1, 0)
	l.Touch(s[0], t0.Add(time.Minute))
	check(0, 3, 2, 1)
	if s[0].links.LastSeen != t0.Add(time.Minute) {
		t.Error("Touch did not record the time")
	}
	l.Touch(s[0], t0.Add(2*time.Minute)) // already newest
	check(0, 3, 2, 1)
	l.Remove(s[2]) // middle
	check(0, 3, 1)
	l.Remove(s[1]) // oldest
	check(0, 3)
	l.Remove(s[0]) // newest
	check(3)
	l.Remove(s[3])
	check()
	l.Push(s[2], t0)
	check(2)
}

func TestNoAllocation(t *testing.T) {
	var l List[state, *state]
	s := make([]state, 64)
	now := time.Unix(0, 0)
	for i := range s {
		l.Push(&s[i], now)
	}
	if a := testing.AllocsPerRun(100, func() {
		l.Touch(l.Oldest(), now)
		e := l.Oldest()
		l.Remove(e)
		l.Push(e, now)
	}); a != 0 {
		t.Errorf("%v allocations per touch/remove/push", a)
	}
}

// TestSweep checks the two bounds: one eviction of the oldest state when
// over the limit, and the idle states dropped at most once a second.
func TestSweep(t *testing.T) {
	var l List[state, *state]
	t0 := time.Unix(100, 0)
	s := []*state{{id: 0}, {id: 1}, {id: 2}, {id: 3}}
	for i, e := range s {
		l.Push(e, t0.Add(time.Duration(i)*time.Minute))
	}
	var evicted []string
	evict := func(e *state, reason string) {
		l.Remove(e)
		evicted = append(evicted, reason+":"+string(rune('0'+e.id)))
	}
	var last time.Time
	// Over the limit: the oldest goes; at t0+3m30s with 2 min idle the
	// scan drops state 1 (last seen at 1 min) but keeps 2 (2 min) and 3.
	now := t0.Add(3*time.Minute + 30*time.Second)
	l.Sweep(now, true, 2*time.Minute, &last, evict)
	if got := strings.Join(evicted, " "); got != "lru:0 idle:1" || last != now {
		t.Fatalf("evicted %q, last scan %v", got, last)
	}
	// Within a second of the last scan: no idle scan, though state 2 is
	// idle for a 1 min bound; not over the limit: no eviction.
	evicted = nil
	l.Sweep(now.Add(500*time.Millisecond), false, time.Minute, &last, evict)
	if len(evicted) != 0 || last != now {
		t.Fatalf("evicted %v within a second of the last scan", evicted)
	}
	l.Sweep(now.Add(time.Second), false, time.Minute, &last, evict)
	if got := strings.Join(evicted, " "); got != "idle:2" || l.Len() != 1 {
		t.Fatalf("evicted %q, %d left", got, l.Len())
	}
}
