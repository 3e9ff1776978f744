package threshold

import "fmt"

// PersistenceConfig is the persistence rule: raise an alarm when at least
// K of the last N windows are above the threshold.
//
// Clearing: with Quiet == 0 an active alarm clears as soon as fewer than K
// of the last N windows are above (the rule's mirror image); with Quiet > 0
// it clears only after Quiet consecutive windows not above the threshold
// (hysteresis: a longer quiet spell is needed to stand down than to raise).
//
// The zero value means K = N = 3, Quiet = 0: the FEMTO run-to-failure
// protocol's "3 consecutive snapshots above the threshold".
type PersistenceConfig struct {
	K     int `json:"k"`               // windows above threshold needed among the last N; 0 means 3
	N     int `json:"n"`               // length of the look-back, N ≥ K; 0 means K
	Quiet int `json:"quiet,omitempty"` // if > 0, consecutive quiet windows that clear an alarm
}

func (c PersistenceConfig) withDefaults() PersistenceConfig {
	if c.K == 0 {
		c.K = 3
	}
	if c.N == 0 {
		c.N = c.K
	}
	return c
}

// Validate reports an invalid rule: K < 0, N < K, or Quiet < 0 (after
// defaults).
func (c PersistenceConfig) Validate() error {
	d := c.withDefaults()
	if d.K < 1 || d.N < d.K || d.Quiet < 0 {
		return fmt.Errorf("%w: persistence K=%d N=%d Quiet=%d: want 1 <= K <= N, Quiet >= 0", ErrParam, d.K, d.N, d.Quiet)
	}
	return nil
}

// Transition is what one window did to an alarm.
type Transition int8

// The transitions.
const (
	NoChange Transition = iota
	Raised              // the alarm became active with this window
	Cleared             // the alarm stood down with this window
)

// String returns "none", "raised" or "cleared".
func (t Transition) String() string {
	switch t {
	case Raised:
		return "raised"
	case Cleared:
		return "cleared"
	}
	return "none"
}

// Persistence applies a [PersistenceConfig] to the windows of one stream,
// one window at a time. Before N windows have been seen, the missing ones
// count as not above. It allocates only in NewPersistence and is not safe
// for concurrent use.
type Persistence struct {
	cfg    PersistenceConfig
	ring   []bool
	pos    int
	count  int // windows above in the ring
	quiet  int // consecutive windows not above
	active bool
	seen   int64
}

// NewPersistence returns the rule's state for one stream, alarm inactive.
// It panics on an invalid config (see [PersistenceConfig.Validate]).
func NewPersistence(cfg PersistenceConfig) *Persistence {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	cfg = cfg.withDefaults()
	return &Persistence{cfg: cfg, ring: make([]bool, cfg.N)}
}

// Config returns the rule with defaults filled in.
func (p *Persistence) Config() PersistenceConfig { return p.cfg }

// Update records whether the next window is above the threshold and returns
// the transition it causes. It does not allocate.
func (p *Persistence) Update(above bool) Transition {
	p.seen++
	if p.ring[p.pos] {
		p.count--
	}
	p.ring[p.pos] = above
	if above {
		p.count++
		p.quiet = 0
	} else {
		p.quiet++
	}
	p.pos++
	if p.pos == len(p.ring) {
		p.pos = 0
	}
	switch {
	case !p.active && p.count >= p.cfg.K:
		p.active = true
		return Raised
	case p.active && p.cfg.Quiet == 0 && p.count < p.cfg.K:
		p.active = false
		return Cleared
	case p.active && p.cfg.Quiet > 0 && p.quiet >= p.cfg.Quiet:
		p.active = false
		return Cleared
	}
	return NoChange
}

// Active reports whether the alarm is raised.
func (p *Persistence) Active() bool { return p.active }

// Above returns how many of the last N windows were above the threshold.
func (p *Persistence) Above() int { return p.count }

// Seen returns the number of windows given to Update since the last Reset.
func (p *Persistence) Seen() int64 { return p.seen }

// Reset forgets the history; the alarm becomes inactive.
func (p *Persistence) Reset() {
	clear(p.ring)
	p.pos, p.count, p.quiet, p.active, p.seen = 0, 0, 0, false, 0
}

// AlarmStates replays the rule over a sequence of windows: active[i]
// reports whether the alarm is raised after window i (above[i] says whether
// window i was above the threshold). dst is reused if it has room, nil
// allocates. The first raised alarm is the first i with active[i]; see
// [FirstAlarm]. It panics on an invalid config.
func AlarmStates(dst, above []bool, cfg PersistenceConfig) []bool {
	p := NewPersistence(cfg)
	if cap(dst) < len(above) {
		dst = make([]bool, len(above))
	}
	dst = dst[:len(above)]
	for i, a := range above {
		p.Update(a)
		dst[i] = p.Active()
	}
	return dst
}

// FirstAlarm returns the index of the window at which the rule first raises
// an alarm, or −1 if it never does. It panics on an invalid config.
func FirstAlarm(above []bool, cfg PersistenceConfig) int {
	p := NewPersistence(cfg)
	for i, a := range above {
		if p.Update(a) == Raised {
			return i
		}
	}
	return -1
}
