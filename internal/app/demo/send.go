package demo

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/mhmstream/mhm/internal/app/ingest"
)

// pacer keeps the machines of a fleet in step: no stream runs more than
// lead ahead of the slowest one, so the fleet streams like one plant whose
// clock runs fast, and, when speed > 0, stream time runs at speed × wall time.
type pacer struct {
	mu    sync.Mutex
	cond  *sync.Cond
	pos   []int64 // per stream: stream time (ns from the start) sent so far; MaxInt64 when done
	lead  int64
	speed float64
	wall0 time.Time
}

func newPacer(n int, lead time.Duration, speed float64) *pacer {
	p := &pacer{pos: make([]int64, n), lead: int64(lead), speed: speed, wall0: time.Now()}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// wait blocks until stream i may send the frame that ends at t (ns from
// the start): t is at most lead past the slowest stream, and, when paced,
// its wall time has come.
func (p *pacer) wait(ctx context.Context, i int, t int64) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	for ctx.Err() == nil && t-p.lead > p.slowest(i) { // not slowest+lead: MaxInt64 when the others are done
		p.cond.Wait()
	}
	p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.speed > 0 {
		due := p.wall0.Add(time.Duration(float64(t) / p.speed))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
	}
	return nil
}

// slowest returns the least position of the other streams (mu held).
func (p *pacer) slowest(self int) int64 {
	m := int64(math.MaxInt64)
	for j, v := range p.pos {
		if j != self {
			m = min(m, v)
		}
	}
	return m
}

// at records that stream i has sent up to t.
func (p *pacer) at(i int, t int64) {
	p.mu.Lock()
	p.pos[i] = t
	p.cond.Broadcast()
	p.mu.Unlock()
}

// done records that stream i has finished.
func (p *pacer) done(i int) { p.at(i, math.MaxInt64) }

// minPos returns the position of the slowest stream that is not done.
func (p *pacer) minPos() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slowest(-1)
}

// httpClient posts frames to ingest over kept-alive connections, one per
// stream.
func httpClient(streams int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = streams + 2
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// newSink returns a sink that posts frames to ingest's API, as a gateway
// does (ingest.HTTPSink: one request per frame, answered after Kafka's ack).
func newSink(url string, c *http.Client) *ingest.HTTPSink {
	return &ingest.HTTPSink{URL: url, Client: c}
}
