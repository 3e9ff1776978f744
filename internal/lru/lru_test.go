package lru

import (
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
