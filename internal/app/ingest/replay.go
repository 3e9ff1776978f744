package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/signal"
	"github.com/mhmstream/mhm/pkg/wire"
)

// ErrReplay is wrapped by the error Replay returns when a file could not be
// replayed (with OnError "skip", after the others were).
var ErrReplay = errors.New("ingest: replay")

// ReplayConfig says how recorded files become raw frames.
type ReplayConfig struct {
	Machine string // machine id of every frame (the Kafka key); required
	Sensor  string // sensor name of every frame
	Channel int    // channel of each file to send, counting from 0
	// Speed is the replay rate relative to real time: 1 sends a frame when
	// its last sample would have been taken, 10 ten times faster, 0 as fast
	// as the sink takes them ("max").
	Speed float64
	// FrameMs is the length of a frame in milliseconds of signal (default
	// 100); the last frame of a file may be shorter.
	FrameMs float64
	// StartNs is the Unix ns time of the first sample of the first file
	// (default: the time Replay starts).
	StartNs int64
	// Seq is the sequence number of the first frame; it grows by one per
	// frame across all files.
	Seq uint64
	// Encoding of the samples: wire.Float32 (default, lossless for every
	// reader's output) or wire.Int16 (half the bytes; each file is scaled
	// so that its peak is 32767 counts).
	Encoding wire.Encoding
	// SkipBad makes Replay go on with the next file when one cannot be
	// read (it is reported and the error returned at the end); by default
	// the first bad file stops the replay.
	SkipBad bool
	// Read is passed to signal.Read (sample rate for generic CSV, MAT
	// variable, forced format).
	Read signal.Options
	// Progress, when not nil, receives a progress line about once a second
	// and a summary at the end.
	Progress io.Writer
}

// Sink receives the frames of a replay in order. Send may keep f's samples
// only until it returns (the caller reuses them); Flush waits until every
// frame sent has been delivered and returns the first delivery error.
type Sink interface {
	Send(ctx context.Context, f *wire.RawFrame) error
	Flush(ctx context.Context) error
}

// Summary is what a replay did.
type Summary struct {
	Files         int      // files replayed completely
	Skipped       []string // files that could not be read (SkipBad)
	Frames        int64
	Samples       int64
	SignalSeconds float64 // seconds of signal sent
	FirstNs       int64   // timestamp of the first frame
	EndNs         int64   // end of the last frame's samples
	NextSeq       uint64  // the sequence number a continuation would use
	Wall          time.Duration
}

// String is the one-line summary printed at the end of a replay.
func (s Summary) String() string {
	rate := 0.0
	if s.Wall > 0 {
		rate = s.SignalSeconds / s.Wall.Seconds()
	}
	msg := fmt.Sprintf("replayed %d file(s): %d frames, %d samples, %.1f s of signal in %v (%.1fx real time)",
		s.Files, s.Frames, s.Samples, s.SignalSeconds, s.Wall.Round(time.Millisecond), rate)
	if len(s.Skipped) > 0 {
		msg += fmt.Sprintf("; skipped %d bad file(s): %v", len(s.Skipped), s.Skipped)
	}
	return msg
}

// Replay reads paths in the order given (use signal.Expand for folders and
// patterns) and sends channel cfg.Channel of each as consecutive raw frames
// to sink.
//
// Timestamps continue across files: the first file starts at cfg.StartNs;
// a later file starts where the previous one ended, unless both carry a
// start time (FEMTO snapshots, 10 s apart): then the file keeps its offset
// from the previous one (a time of day that went backwards is taken to be
// on the next day), but never overlaps the previous file. Sequence numbers
// grow by one per frame across files, so a jump in time with a contiguous
// seq tells spectro that the recording has a gap (it starts a new clip).
//
// A file that cannot be read, or lacks the channel, stops the replay with an
// error naming it, or with cfg.SkipBad is reported, skipped (time does not
// advance) and named in the Summary and in the error returned at the end.
func Replay(ctx context.Context, cfg ReplayConfig, paths []string, sink Sink) (Summary, error) {
	if cfg.Machine == "" {
		return Summary{}, fmt.Errorf("%w: no machine id", ErrReplay)
	}
	if cfg.FrameMs == 0 {
		cfg.FrameMs = 100
	}
	if !(cfg.FrameMs > 0) || cfg.Speed < 0 || math.IsInf(cfg.Speed, 0) || math.IsNaN(cfg.Speed) {
		return Summary{}, fmt.Errorf("%w: frame of %g ms, speed %g", ErrReplay, cfg.FrameMs, cfg.Speed)
	}
	if cfg.Encoding == 0 {
		cfg.Encoding = wire.Float32
	}
	start := time.Now()
	if cfg.StartNs == 0 {
		cfg.StartNs = start.UnixNano()
	}
	r := replayer{cfg: cfg, sink: sink, wall0: start, sim0: cfg.StartNs, lastLine: start}
	r.sum.NextSeq = cfg.Seq
	r.sum.FirstNs = cfg.StartNs
	cur := cfg.StartNs
	var prevOwn, prevAt int64
	havePrev := false
	var bad []error
	for i, path := range paths {
		sig, err := signal.Read(path, cfg.Read)
		if err == nil && (cfg.Channel < 0 || cfg.Channel >= sig.NumChannels()) {
			err = fmt.Errorf("%s: no channel %d (the file has %d)", path, cfg.Channel, sig.NumChannels())
		}
		if err == nil && sig.Len() == 0 {
			err = fmt.Errorf("%s: no samples", path)
		}
		if err != nil {
			err = fmt.Errorf("%w: file %d of %d: %w", ErrReplay, i+1, len(paths), err)
			if !cfg.SkipBad {
				r.finish(ctx)
				return r.sum, err
			}
			r.printf("replay: skipping %s: %v\n", path, err)
			r.sum.Skipped = append(r.sum.Skipped, path)
			bad = append(bad, err)
			continue
		}
		at := cur
		if sig.StartNs != 0 {
			if havePrev {
				d := sig.StartNs - prevOwn
				for d < 0 { // a time of day that wrapped past midnight
					d += 24 * int64(time.Hour)
				}
				at = max(prevAt+d, cur)
			}
			prevOwn, prevAt, havePrev = sig.StartNs, at, true
		}
		r.file = fmt.Sprintf("file %d/%d %s", i+1, len(paths), filepath.Base(path))
		end, err := r.send(ctx, sig, at)
		if err != nil {
			r.finish(ctx)
			return r.sum, err
		}
		cur = end
		r.sum.Files++
	}
	if err := r.finish(ctx); err != nil {
		return r.sum, err
	}
	if len(bad) > 0 {
		return r.sum, errors.Join(bad...)
	}
	return r.sum, nil
}

type replayer struct {
	cfg      ReplayConfig
	sink     Sink
	sum      Summary
	frame    wire.RawFrame
	wall0    time.Time
	sim0     int64
	file     string
	lastLine time.Time
}

func (r *replayer) printf(format string, a ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format, a...)
	}
}

// send sends one file starting at time at and returns the end time.
func (r *replayer) send(ctx context.Context, sig *signal.Signal, at int64) (int64, error) {
	x := sig.Channel(r.cfg.Channel)
	n := max(1, int(math.Round(r.cfg.FrameMs*sig.Rate/1000)))
	f := &r.frame
	f.Machine, f.Sensor, f.SampleRate, f.Encoding = r.cfg.Machine, r.cfg.Sensor, sig.Rate, r.cfg.Encoding
	scale := float32(1)
	if f.Encoding == wire.Int16 {
		var peak float32
		for _, v := range x {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		if peak > 0 {
			scale = peak / 32767
		}
		f.Scale = scale
	}
	for k := 0; k < len(x); k += n {
		chunk := x[k:min(k+n, len(x))]
		f.TimestampNs = at + patch.SamplesToNs(int64(k), sig.Rate)
		f.Seq = r.sum.NextSeq
		if f.Encoding == wire.Int16 {
			f.Int16 = f.Int16[:0]
			for _, v := range chunk {
				f.Int16 = append(f.Int16, int16(max(-32768, min(32767, math.Round(float64(v)/float64(scale))))))
			}
		} else {
			f.Float32 = append(f.Float32[:0], chunk...)
		}
		endNs := at + patch.SamplesToNs(int64(k+len(chunk)), sig.Rate)
		if r.cfg.Speed > 0 {
			due := r.wall0.Add(time.Duration(float64(endNs-r.sim0) / r.cfg.Speed))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return endNs, ctx.Err()
				case <-t.C:
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return endNs, err
		}
		if err := f.Validate(); err != nil {
			return endNs, fmt.Errorf("%w: %s, frame at sample %d: %w", ErrReplay, r.file, k, err)
		}
		if err := r.sink.Send(ctx, f); err != nil {
			return endNs, fmt.Errorf("%w: %s: %w", ErrReplay, r.file, err)
		}
		r.sum.Frames++
		r.sum.Samples += int64(len(chunk))
		r.sum.SignalSeconds += float64(len(chunk)) / sig.Rate
		r.sum.NextSeq++
		r.sum.EndNs = endNs
		if now := time.Now(); now.Sub(r.lastLine) >= time.Second {
			r.lastLine = now
			r.printf("replay: %s: %d frames, %.1f s of signal, %.1fx real time\n",
				r.file, r.sum.Frames, r.sum.SignalSeconds, r.sum.SignalSeconds/now.Sub(r.wall0).Seconds())
		}
	}
	return at + patch.SamplesToNs(int64(len(x)), sig.Rate), nil
}

func (r *replayer) finish(ctx context.Context) error {
	err := r.sink.Flush(ctx)
	r.sum.Wall = time.Since(r.wall0)
	r.printf("replay: %s\n", r.sum)
	if err != nil {
		return fmt.Errorf("%w: delivery: %w", ErrReplay, err)
	}
	return nil
}

// KafkaSink produces frames to a topic keyed by machine id, asynchronously
// (kgo bounds the records buffered); Flush waits for every acknowledgement.
type KafkaSink struct {
	Client *kgo.Client
	Topic  string

	mu    sync.Mutex
	err   error
	acked int64
}

// Send encodes f and produces it; it allocates the encoded value (kgo keeps
// it until the ack).
func (k *KafkaSink) Send(ctx context.Context, f *wire.RawFrame) error {
	if err := k.firstErr(); err != nil {
		return err
	}
	rec := &kgo.Record{Topic: k.Topic, Key: []byte(f.Machine), Value: wire.AppendRawFrame(nil, f)}
	k.Client.Produce(ctx, rec, func(_ *kgo.Record, err error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		if err != nil && k.err == nil {
			k.err = err
		}
		if err == nil {
			k.acked++
		}
	})
	return nil
}

func (k *KafkaSink) firstErr() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// Acked returns the number of frames acknowledged so far.
func (k *KafkaSink) Acked() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.acked
}

// Flush waits for every frame produced so far to be acknowledged.
func (k *KafkaSink) Flush(ctx context.Context) error {
	if err := k.Client.Flush(ctx); err != nil {
		return err
	}
	return k.firstErr()
}

// HTTPSink posts each frame (binary) to an ingest server's /v1/frames and
// waits for its 202, so frames arrive in order.
type HTTPSink struct {
	URL    string // e.g. http://127.0.0.1:8080/v1/frames
	Token  string // bearer token, if the server wants one
	Client *http.Client
	buf    []byte
}

// Send posts f and returns an error unless the server answers 202.
func (h *HTTPSink) Send(ctx context.Context, f *wire.RawFrame) error {
	h.buf = wire.AppendRawFrame(h.buf[:0], f)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(h.buf))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		var a Answer
		if json.Unmarshal(body, &a) == nil && a.Error != "" {
			return fmt.Errorf("ingest server: %s: %s (%s)", resp.Status, a.Error, a.Reason)
		}
		return fmt.Errorf("ingest server: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Flush does nothing: Send waits for each answer.
func (h *HTTPSink) Flush(context.Context) error { return nil }

// DirSink writes each frame to its own file in Dir: frame-000000.bin
// (binary) or frame-000000.json, numbered from 0 in order, for tools that
// send one file per record (kcat -P -t mhm.raw -k MACHINE DIR/*.bin) or
// per request (curl --data-binary @frame-000000.bin).
type DirSink struct {
	Dir  string
	JSON bool
	n    int
	buf  []byte
}

// Send writes f to the next file.
func (d *DirSink) Send(_ context.Context, f *wire.RawFrame) error {
	name := fmt.Sprintf("frame-%06d.bin", d.n)
	if d.JSON {
		var err error
		name = fmt.Sprintf("frame-%06d.json", d.n)
		if d.buf, err = wire.AppendRawFrameJSON(d.buf[:0], f); err != nil {
			return err
		}
	} else {
		d.buf = wire.AppendRawFrame(d.buf[:0], f)
	}
	d.n++
	return os.WriteFile(filepath.Join(d.Dir, name), d.buf, 0o644)
}

// Flush does nothing: files are written by Send.
func (d *DirSink) Flush(context.Context) error { return nil }
