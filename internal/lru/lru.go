// Package lru orders a worker's per-stream states from most to least
// recently used, so it can bound how many streams it holds (evict the
// least recently used) and drop the idle ones, in O(1) per record and
// without allocating: the links live inside the states themselves.
package lru

import "time"

// Links is embedded in a state kept in a List.
type Links[T any] struct {
	prev, next *T
	// LastSeen is when the state was last pushed or touched.
	LastSeen time.Time
}

// Elem is a pointer to a state type whose LRU method returns its embedded
// Links.
type Elem[T any] interface {
	*T
	LRU() *Links[T]
}

// List is a doubly linked list of states, most recently used first. The
// zero value is an empty list. It is not safe for concurrent use.
type List[T any, P Elem[T]] struct {
	head, tail *T
	n          int
}

// Len is the number of states in the list.
func (l *List[T, P]) Len() int { return l.n }

// Oldest is the least recently used state, nil when the list is empty.
func (l *List[T, P]) Oldest() P { return P(l.tail) }

// Newest is the most recently used state, nil when the list is empty.
func (l *List[T, P]) Newest() P { return P(l.head) }

// Push adds a state that is not in the list as the most recently used.
func (l *List[T, P]) Push(e P, now time.Time) {
	lk := e.LRU()
	lk.LastSeen = now
	lk.prev, lk.next = nil, l.head
	if l.head != nil {
		P(l.head).LRU().prev = (*T)(e)
	}
	l.head = (*T)(e)
	if l.tail == nil {
		l.tail = (*T)(e)
	}
	l.n++
}

// Touch marks a state of the list as used at now: it becomes the most
// recently used.
func (l *List[T, P]) Touch(e P, now time.Time) {
	e.LRU().LastSeen = now
	if l.head == (*T)(e) {
		return
	}
	l.Remove(e)
	l.Push(e, now)
}

// Remove takes a state of the list out of it.
func (l *List[T, P]) Remove(e P) {
	lk := e.LRU()
	if lk.prev != nil {
		P(lk.prev).LRU().next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != nil {
		P(lk.next).LRU().prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	lk.prev, lk.next = nil, nil
	l.n--
}

// Sweep applies a worker's bounds to the list. When over is true (the
// worker holds more states than its limit) the least recently used state
// is evicted with reason "lru"; and, at most once a second (lastScan holds
// the time of the previous scan), every state unused for longer than idle
// is evicted with reason "idle". evict must remove the state from the list.
func (l *List[T, P]) Sweep(now time.Time, over bool, idle time.Duration, lastScan *time.Time, evict func(P, string)) {
	if over && l.tail != nil {
		evict(P(l.tail), "lru")
	}
	if now.Sub(*lastScan) < time.Second {
		return
	}
	*lastScan = now
	for l.tail != nil && now.Sub(P(l.tail).LRU().LastSeen) > idle {
		evict(P(l.tail), "idle")
	}
}
