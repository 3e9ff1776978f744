package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/wire"
)

// lockedWriter serialises the lines of the goroutines that print.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, a...)
}

// collector reads the detector's outputs (events and per-window scores)
// from Kafka as an independent consumer would, keeps them per machine and
// prints the events as they arrive.
type collector struct {
	out    *lockedWriter
	origin int64 // stream start (Unix ns): printed times are relative to it
	long   bool  // print hours
	// noteEvery is how much stream time passes between the lines that say
	// an alarm is still on.
	noteEvery int64

	mu       sync.Mutex
	units    map[string]*unit
	episodes map[string]*episode
	seen     map[string]bool   // event ids: at-least-once delivery may repeat one
	scored   map[scoreKey]bool // (machine, window) pairs already kept
	events   int
	dupes    int
	decoding int // records that did not decode
}

type scoreKey struct {
	machine string
	startNs int64
}

// episode is an alarm as the events show it: consecutive windows above the
// threshold while the persistence rule holds.
type episode struct {
	windows  int
	peak     float64
	sinceNs  int64      // window start of its first event
	last     wire.Event // its last event
	lastNote int64
}

func newCollector(out *lockedWriter, units []*unit, origin int64, long bool, noteEvery time.Duration) *collector {
	c := &collector{out: out, origin: origin, long: long, noteEvery: int64(noteEvery),
		units: map[string]*unit{}, episodes: map[string]*episode{}, seen: map[string]bool{}, scored: map[scoreKey]bool{}}
	for _, u := range units {
		c.units[u.ID] = u
	}
	return c
}

// run consumes the anomalies and scores topics from their start until ctx
// is cancelled.
func (c *collector) run(ctx context.Context, cl *kgo.Client, anomalies, scores string) error {
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var errs []error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("consume %s[%d]: %w", t, p, err))
			}
		})
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		fs.EachRecord(func(r *kgo.Record) {
			switch r.Topic {
			case anomalies:
				var e wire.Event
				if err := wire.DecodeEvent(&e, r.Value); err != nil {
					c.badRecord()
					return
				}
				c.event(e)
			case scores:
				var s wire.Score
				if err := wire.DecodeScore(&s, r.Value); err != nil {
					c.badRecord()
					return
				}
				c.score(s)
			}
		})
	}
}

func (c *collector) badRecord() {
	c.mu.Lock()
	c.decoding++
	c.mu.Unlock()
}

func (c *collector) score(s wire.Score) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.units[s.Machine]
	k := scoreKey{s.Machine, s.WindowStartNs}
	if u == nil || c.scored[k] {
		return
	}
	c.scored[k] = true
	u.Scores = append(u.Scores, s)
}

// progress returns, per machine, the end of the last window scored.
func (c *collector) progress() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := map[string]int64{}
	for id, u := range c.units {
		for _, s := range u.Scores {
			p[id] = max(p[id], s.WindowEndNs)
		}
	}
	return p
}

func (c *collector) counts() (events, dupes, bad int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events, c.dupes, c.decoding
}

func (c *collector) event(e wire.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.units[e.Machine]
	if u == nil {
		return
	}
	if c.seen[e.EventID] {
		c.dupes++
		return
	}
	c.seen[e.EventID] = true
	c.events++
	u.Events = append(u.Events, e)
	ep := c.episodes[e.Machine]
	if ep == nil || !continues(ep.last, e) {
		ep = &episode{sinceNs: e.WindowStartNs, lastNote: e.WindowEndNs, windows: 1, peak: e.Severity, last: e}
		c.episodes[e.Machine] = ep
		c.out.printf("%s  %-12s ALARM  score %.4g > threshold %.4g (%.1fx)  top %s\n",
			c.clock(e.WindowEndNs), e.Machine, e.Score, e.Threshold, e.Severity, bandList(e.Bands))
		return
	}
	ep.windows++
	ep.peak = max(ep.peak, e.Severity)
	ep.last = e
	if e.WindowEndNs-ep.lastNote >= c.noteEvery {
		ep.lastNote = e.WindowEndNs
		c.out.printf("%s  %-12s alarm on: %d windows above since %s, now %.1fx (peak %.1fx)  top %s\n",
			c.clock(e.WindowEndNs), e.Machine, ep.windows, c.clock(ep.sinceNs), e.Severity, ep.peak, bandList(e.Bands[:min(1, len(e.Bands))]))
	}
}

// clock formats a Unix ns time relative to the stream's start.
func (c *collector) clock(ns int64) string { return relTime(ns-c.origin, c.long) }

// relTime formats d ns as +mm:ss.s, or +h:mm:ss when long.
func relTime(d int64, long bool) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	if long {
		s := d / 1e9
		return fmt.Sprintf("%s%d:%02d:%02d", sign, s/3600, s/60%60, s%60)
	}
	ds := (d + 5e7) / 1e8 // tenths of a second
	return fmt.Sprintf("%s%02d:%02d.%d", sign, ds/600, ds/10%60, ds%10)
}

// bandList formats bands as "2119-2251 Hz, 2251-2390 Hz".
func bandList(bs []wire.BandScore) string {
	if len(bs) == 0 {
		return "-"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = hzRange(b.LowHz, b.HighHz)
	}
	return strings.Join(parts, ", ")
}

func hzRange(lo, hi float64) string { return fmt.Sprintf("%.0f-%.0f Hz", lo, hi) }
