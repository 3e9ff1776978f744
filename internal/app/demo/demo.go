package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options configure Run. Zero fields take the defaults given.
type Options struct {
	// Out is the report folder (created; files in it are overwritten).
	// Default "report".
	Out string

	// The simulated fleet (pkg/sim.NewFleet).
	Seed     uint64        // fleet seed; default 1
	Machines int           // fleet size; default 6 (fan, pump, gearbox, bearing, motor, fan)
	Healthy  time.Duration // fault-free lead each model is trained on; default 2 min
	Duration time.Duration // each machine's whole signal; default 10 min (8 min streamed)
	// Epochs overrides the training epochs (default 15 for the acoustic
	// machines' DCASE autoencoder, 10 for the vibration ones).
	Epochs int

	// Data, when set, runs the FEMTO run-to-failure demo instead: a folder
	// holding femto/Learning_set/<Bearing> (or the bearing's folder itself),
	// or femto.tar.xz, which is unpacked into the report's work folder.
	// "auto" looks for ../shared/data/femto.tar.xz (internal/realdata).
	Data    string
	Bearing string // FEMTO bearing; default "Bearing2_1"
	// FemtoModel is the model kind fitted on the FEMTO bearing (train fit
	// --model); default "vae" (log-evidence): on both bearings it alarms at
	// 22-23 % of life for every seed, where the dense autoencoder ranges
	// from 28 % to 96 % (docs/results.md).
	FemtoModel string

	// Speed is stream time per wall time (20: twenty times real time);
	// 0 streams as fast as the pipeline takes it.
	Speed float64
	// Frame is the length of signal per raw frame (one HTTP request to
	// ingest); default 1 s. Each machine posts its frames one after the
	// other and ingest answers after Kafka's acknowledgement (about 15 ms
	// here, 10 of them the producer's linger), so shorter frames make the
	// demo wait on round trips: 0.25 s frames took 30 s to stream what 1 s
	// frames stream in 12.
	Frame time.Duration
	// KeepWork keeps Out/work: the training WAV files, the unpacked FEMTO
	// data (deleted at the end by default).
	KeepWork bool
	// HTTPAddr, when set, serves the stages' /metrics, /healthz, /readyz.
	HTTPAddr string

	// Stdout receives the demo's progress, events and summary; nil: io.Discard.
	Stdout io.Writer
}

func (o *Options) defaults() {
	if o.Out == "" {
		o.Out = "report"
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Machines == 0 {
		o.Machines = 6
	}
	if o.Healthy == 0 {
		o.Healthy = 2 * time.Minute
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Minute
	}
	if o.Bearing == "" {
		o.Bearing = "Bearing2_1"
	}
	if o.FemtoModel == "" {
		o.FemtoModel = "vae"
	}
	if o.Frame == 0 {
		o.Frame = time.Second
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
}

// ErrOptions is wrapped by the errors of bad Options.
var ErrOptions = errors.New("demo: bad options")

func (o *Options) validate() error {
	switch {
	case o.Machines < 1 || o.Machines > 60:
		return fmt.Errorf("%w: %d machines: want 1 to 60", ErrOptions, o.Machines)
	case o.Healthy < 12*time.Second:
		return fmt.Errorf("%w: healthy lead %v: want at least 12 s (2 min or more for a model that has seen the machine's drift; docs/sim.md)", ErrOptions, o.Healthy)
	case o.Duration < o.Healthy+10*time.Second:
		return fmt.Errorf("%w: duration %v: want at least 10 s more than the healthy lead %v", ErrOptions, o.Duration, o.Healthy)
	case o.Speed < 0:
		return fmt.Errorf("%w: speed %g", ErrOptions, o.Speed)
	case o.Frame < time.Millisecond || o.Frame > 2*time.Second:
		return fmt.Errorf("%w: frame %v: want 1 ms to 2 s", ErrOptions, o.Frame)
	case o.Epochs < 0:
		return fmt.Errorf("%w: %d epochs", ErrOptions, o.Epochs)
	}
	return nil
}

// Result is what a run found, for the summary, the report and tests.
type Result struct {
	Mode     string // "fleet" or "femto"
	Machines []MachineResult
	// Detectable faults and how many were detected; false alarms (alarm
	// episodes on healthy machines, or before a fault's onset).
	Detectable, Detected, FalseAlarms int
	// Throughput: seconds of sensor signal streamed, the wall time from the
	// first frame sent to the last window decided, events and windows.
	SensorSeconds float64
	StreamWall    time.Duration
	Events        int
	Windows       int
	Patches       float64 // scored by detect
	DLQ           float64 // records sent to the dead-letter topic
	TrainWall     time.Duration
	TotalWall     time.Duration
	// Report is the path of index.html; Figures the PNG files written.
	Report  string
	Figures []string
}

// AllDetected says whether every detectable fault was detected.
func (r *Result) AllDetected() bool { return r.Detected == r.Detectable }

// Run runs the demo: trains, starts the stack, streams, prints events and
// the summary, writes the report. It returns an error when the demo could
// not run to its end; misses and false alarms are results, in Result.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt.defaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}
	out := &lockedWriter{w: opt.Stdout}
	t0 := time.Now()
	abs, err := filepath.Abs(opt.Out)
	if err != nil {
		return nil, err
	}
	opt.Out = abs
	for _, d := range []string{opt.Out, filepath.Join(opt.Out, "models"), filepath.Join(opt.Out, "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var src source
	if opt.Data != "" {
		src = &femtoSource{opt: opt}
	} else {
		src = &fleetSource{opt: opt}
	}
	res := &Result{Mode: src.mode()}

	// 1. Data and models.
	units, err := src.prepare(ctx, out)
	if err != nil {
		return nil, err
	}
	res.TrainWall = time.Since(t0)

	// 2. The stack: broker, models published, ingest + spectro + detect.
	logPath := filepath.Join(opt.Out, "pipeline.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	origin := src.origin()
	col := newCollector(out, units, origin, src.long(), src.noteEvery())
	ts := time.Now()
	st, err := startStack(ctx, units, logf, col, opt.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("starting the pipeline: %w", err)
	}
	defer st.close()
	out.printf("\npipeline: embedded broker %s (in memory only), ingest API %s, spectro and detect in this process; ready in %.1f s, %d models loaded from %s\n",
		st.broker.Addr(), st.ingestURL, time.Since(ts).Seconds(), st.modelsLoaded(), st.sc.Topics.Models)
	out.printf("pipeline: stage logs in %s\n\n", logPath)

	// 3. Stream, with the events printed as they arrive.
	ws := time.Now()
	sent := make(chan error, 1)
	ctxs, cancelSend := context.WithCancel(ctx)
	defer cancelSend()
	go func() { sent <- src.stream(ctxs, st.ingestURL, units, out) }()
	if err := waitDone(ctx, sent, col, units, src, out, ws); err != nil {
		cancelSend()
		st.stop()
		return nil, err
	}
	res.StreamWall = time.Since(ws)
	res.Patches = st.metric("mhm_detect_patches_scored_total", nil)
	res.DLQ = st.metric("mhm_stream_dlq_total", nil)
	if err := st.stop(); err != nil {
		out.printf("pipeline: shutdown: %v\n", err)
	}

	// 4. Summary and report.
	for _, u := range units {
		res.SensorSeconds += float64(u.Samples) / u.Rate
		res.Windows += len(u.Scores)
		res.Events += len(u.Events)
		mr := src.judge(u)
		res.Machines = append(res.Machines, mr)
		if mr.Detectable {
			res.Detectable++
			if mr.Detected {
				res.Detected++
			}
		}
		res.FalseAlarms += mr.FalseAlarms
	}
	if _, dupes, bad := col.counts(); dupes > 0 || bad > 0 {
		out.printf("collector: %d duplicate events dropped (at-least-once delivery), %d records that did not decode\n", dupes, bad)
	}
	if !opt.KeepWork {
		os.RemoveAll(filepath.Join(opt.Out, "work"))
	}
	res.TotalWall = time.Since(t0) // the report says it; the summary has the final figure
	if err := writeReport(opt.Out, res, units, src); err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	res.TotalWall = time.Since(t0)
	printSummary(out, res, src)
	return res, nil
}

// waitDone waits until the streams are sent and every machine's last
// decidable window has been decided, printing progress once a second.
func waitDone(ctx context.Context, sent chan error, col *collector, units []*unit, src source, out *lockedWriter, t0 time.Time) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var sentAt time.Time
	lastProgress, lastChange := int64(0), time.Now()
	total := src.streamNs()
	for {
		ticked := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-sent:
			if err != nil {
				return fmt.Errorf("streaming: %w", err)
			}
			sentAt = time.Now()
			sent = nil
		case <-tick.C:
			ticked = true
		}
		p := col.progress()
		var done, sum int64
		finished := true
		var behind []string
		for _, u := range units {
			got := p[u.ID]
			if sent != nil { // the senders still write the units
				finished = false
			} else if want := u.lastWindowEnd(); want == 0 || got < want {
				finished = false
				behind = append(behind, fmt.Sprintf("%s at %s of %s", u.ID, relTime(got-src.origin(), src.long()), relTime(want-src.origin(), src.long())))
			}
			d := max(0, got-src.origin())
			sum += d
			if done == 0 || d < done {
				done = d
			}
		}
		if finished {
			return nil
		}
		if sum != lastProgress {
			lastProgress, lastChange = sum, time.Now()
		}
		if !ticked {
			continue
		}
		ev, _, _ := col.counts()
		el := time.Since(t0).Seconds()
		var sensor float64
		for _, u := range units {
			sensor += float64(u.sentNs.Load()) / 1e9
		}
		out.printf("stream   %s of %s decided on every machine (%3.0f%%)  %.0f sensor-s sent in %.1f s (%.0f sensor-s/s)  %d events\n",
			relTime(done, src.long()), relTime(total, src.long()), 100*float64(done)/float64(total), sensor, el, sensor/el, ev)
		if sent == nil && time.Since(lastChange) > 30*time.Second {
			sort.Strings(behind)
			return fmt.Errorf("the detector decided no new window for 30 s after the last frame was sent %.0f s ago: %s (see pipeline.log)",
				time.Since(sentAt).Seconds(), strings.Join(behind, ", "))
		}
	}
}

// source is where the demo's machines come from: the simulated fleet or
// a FEMTO bearing.
type source interface {
	mode() string
	// prepare makes the training data, trains the models and returns the
	// units ready to stream.
	prepare(ctx context.Context, out *lockedWriter) ([]*unit, error)
	// origin is the stream's start (Unix ns), streamNs its length.
	origin() int64
	streamNs() int64
	// long says whether times are printed with hours; noteEvery how
	// often a running alarm is reported.
	long() bool
	noteEvery() time.Duration
	// zoomPad is how much stream time the zoom figure shows around the
	// first alarm, in ns.
	zoomPad() int64
	// stream sends every unit's signal to ingest's API at url.
	stream(ctx context.Context, url string, units []*unit, out *lockedWriter) error
	// judge compares what the pipeline said about u with the truth.
	judge(u *unit) MachineResult
}
