package demo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/signal"
	"github.com/mhmstream/mhm/pkg/sim"
	"github.com/mhmstream/mhm/pkg/wire"
)

// Training of the simulated machines. Every flag is one of `train fit`'s;
// docs/demo.md gives the measurements behind the choices.
const (
	// clips: the healthy lead is written as this many WAV files of equal
	// length; every third one (2, 5, 8, 11) is held out to learn the
	// threshold, so the calibration data is spread over the whole lead and
	// sees the slow speed and load drift the training data saw, instead of
	// only its last 20 % (correlated windows under-estimate the spread).
	clips = 12
	// acousticEpochs: the DCASE autoencoder on standardised log-mels reaches
	// its lowest validation loss at about 11 epochs on 80 s of a simulated
	// machine, then overfits slowly.
	acousticEpochs = 15
	// vibrationEpochs with hidden layers of 64: the vibration preset makes
	// 400 patches/s, 32 000 patches from 80 s; 10 epochs take about 3 s.
	vibrationEpochs = 10
)

// fitFlags returns the train fit flags (after --machine, --out and the
// files) for a simulated machine of the given sensor: a dense autoencoder
// on the preset front end (--preset auto: DCASE log-mels for the 16 kHz
// microphones, the vibration preset for the 25.6 kHz accelerometers),
// standardised inputs, 1 s decision windows (mean of the patch scores),
// threshold mean + 4 sd of the calibration windows, alarm on 3 windows in
// a row (the default --persist 3/3).
func fitFlags(s sim.Sensor, epochs int, seed uint64) []string {
	f := []string{"--model", "dense-ae", "--standardize=true", "--decision-window", "1s",
		"--threshold", "mean-std", "--threshold-param", "4", "--seed", strconv.FormatUint(seed, 10)}
	if s == sim.Vibration {
		if epochs == 0 {
			epochs = vibrationEpochs
		}
		f = append(f, "--hidden", "64,64")
	} else if epochs == 0 {
		epochs = acousticEpochs
	}
	return append(f, "--epochs", strconv.Itoa(epochs))
}

// fleetSource is the simulated fleet.
type fleetSource struct {
	opt      Options
	fleet    sim.Fleet
	machines []*sim.Machine
	start    int64 // stream start, Unix ns: the machines' time Healthy
}

func (s *fleetSource) mode() string             { return "fleet" }
func (s *fleetSource) origin() int64            { return s.start }
func (s *fleetSource) streamNs() int64          { return int64(s.opt.Duration - s.opt.Healthy) }
func (s *fleetSource) long() bool               { return s.opt.Duration-s.opt.Healthy >= time.Hour }
func (s *fleetSource) noteEvery() time.Duration { return 30 * time.Second }
func (s *fleetSource) zoomPad() int64           { return int64(20 * time.Second) }

func (s *fleetSource) prepare(ctx context.Context, out *lockedWriter) ([]*unit, error) {
	o := s.opt
	s.fleet = sim.NewFleet(o.Seed, o.Machines, &sim.FleetSettings{Healthy: o.Healthy, Duration: o.Duration})
	// The stream starts on a whole second, so the detector's 1 s windows
	// (aligned to the epoch) are whole seconds of stream time.
	s.start = time.Now().Truncate(time.Second).UnixNano()
	at := func(d time.Duration) int64 { return s.start + int64(d-o.Healthy) }
	streamed := o.Duration - o.Healthy
	out.printf("mhm demo: a simulated fleet of %d machines (seed %d); each model trains on the first %v of its machine, then %v of every machine is streamed\n",
		o.Machines, o.Seed, o.Healthy, streamed)
	out.printf("report folder: %s\n\n", o.Out)
	truths := map[string][]sim.Truth{}
	for _, t := range s.fleet.Truth() {
		truths[t.Machine] = append(truths[t.Machine], t)
	}
	out.printf("%-12s %-8s %-10s %s\n", "machine", "kind", "sensor", "fault schedule (stream time)")
	var units []*unit
	for _, m := range s.fleet {
		sensor := "mic"
		if m.Spec.Sensor == sim.Vibration {
			sensor = "acc"
		}
		u := &unit{ID: m.ID, Kind: m.Kind.String(), Sensor: sensor, Rate: m.Spec.Rate}
		var sched []string
		for _, t := range truths[m.ID] {
			tr := truth{Fault: t.Fault.String(), StartNs: at(t.Start), Detectable: t.Detectable}
			if t.Visible >= 0 {
				tr.VisibleNs = at(t.Visible)
			}
			u.Faults = append(u.Faults, tr)
			d := fmt.Sprintf("%s from %s", t.Fault, relTime(tr.StartNs-s.start, false))
			switch {
			case !t.Detectable:
				d += " (too small to detect: not expected)"
			case t.Visible > t.Start+10*time.Second:
				d += fmt.Sprintf(", growing, clear from %s", relTime(tr.VisibleNs-s.start, false))
			}
			sched = append(sched, d)
		}
		if len(sched) == 0 {
			sched = []string{"none (healthy)"}
		}
		out.printf("%-12s %-8s %-10s %s\n", m.ID, m.Kind, fmt.Sprintf("%s %gk", sensor, m.Spec.Rate/1000), strings.Join(sched, "; "))
		units = append(units, u)
	}
	out.printf("\n")

	// Healthy minutes → WAV clips → train fit, one machine at a time.
	for i, m := range s.fleet {
		u := units[i]
		mc, err := m.New()
		if err != nil {
			return nil, err
		}
		s.machines = append(s.machines, mc)
		dir := filepath.Join(o.Out, "work", m.ID)
		trainFiles, calFiles, err := writeClips(mc, dir, o.Healthy)
		if err != nil {
			return nil, err
		}
		u.ModelPath = filepath.Join(o.Out, "models", m.ID+".mhm")
		args := []string{"--machine", m.ID, "--out", u.ModelPath}
		args = append(args, fitFlags(m.Spec.Sensor, o.Epochs, o.Seed)...)
		for _, c := range calFiles {
			args = append(args, "--calibrate", c)
		}
		args = append(args, trainFiles...)
		out.printf("train %d/%d %-12s %d s of healthy signal (%d WAV clips, %d held out for the threshold): train fit %s\n",
			i+1, len(units), m.ID, int(o.Healthy.Seconds()), clips, len(calFiles), strings.Join(shortArgs(args, o.Out), " "))
		t0 := time.Now()
		res, err := fitModel(ctx, args, func(line string) { out.printf("      %-12s %s\n", "", line) }, 5)
		if err != nil {
			return nil, err
		}
		if u.Meta, err = modelMeta(u.ModelPath); err != nil {
			return nil, err
		}
		u.FitLine = fitSummary(res, time.Since(t0))
		u.FitArgs = args
		out.printf("      %-12s -> %s\n", "", u.FitLine)
		if u.spec, err = newSpecStore(u.Meta.Feature); err != nil {
			return nil, err
		}
	}
	return units, nil
}

// shortArgs writes paths relative to the report folder, and a run of WAV
// files as "dir/healthy-*.wav", for a readable progress line.
func shortArgs(args []string, base string) []string {
	var outArgs []string
	var clipsShown bool
	for _, a := range args {
		if strings.HasSuffix(a, ".wav") || strings.HasSuffix(a, ".mhm") {
			if r, err := filepath.Rel(base, a); err == nil {
				a = r
			}
		}
		if strings.HasSuffix(a, ".wav") && strings.Contains(a, "healthy-") {
			if len(outArgs) > 0 && outArgs[len(outArgs)-1] == "--calibrate" {
				outArgs = append(outArgs, a)
				continue
			}
			if clipsShown {
				continue
			}
			clipsShown = true
			a = filepath.Join(filepath.Dir(a), "<training clips>")
		}
		outArgs = append(outArgs, a)
	}
	return outArgs
}

// writeClips reads the machine's healthy lead and writes it as clips WAV
// files (float32: the samples the stream will send, bit for bit); it
// returns the training files and the calibration files (every third clip).
func writeClips(mc *sim.Machine, dir string, healthy time.Duration) (trainFiles, calFiles []string, err error) {
	if err := mkdir(dir); err != nil {
		return nil, nil, err
	}
	rate := mc.SampleRate()
	total := int(healthy.Seconds() * rate)
	per := total / clips
	x := make([]float32, per)
	for i := range clips {
		if n := mc.Read(x); n != per {
			return nil, nil, fmt.Errorf("simulated machine ended after %d of %d samples", n, per)
		}
		path := filepath.Join(dir, fmt.Sprintf("healthy-%02d.wav", i))
		if err := signal.WriteWAV(path, &signal.Signal{Rate: rate, Channels: [][]float32{x}}, signal.WAVFloat32); err != nil {
			return nil, nil, err
		}
		if i%3 == 2 {
			calFiles = append(calFiles, path)
		} else {
			trainFiles = append(trainFiles, path)
		}
	}
	// The stream continues where the lead ends: skip what a whole number
	// of clips left over.
	if rest := total - per*clips; rest > 0 {
		mc.Read(make([]float32, rest))
	}
	return trainFiles, calFiles, nil
}

// stream sends every machine's signal after its healthy lead through
// ingest's HTTP API, one goroutine and one connection per machine, the
// machines kept within a second of each other.
func (s *fleetSource) stream(ctx context.Context, url string, units []*unit, out *lockedWriter) error {
	pc := newPacer(len(units), time.Second, s.opt.Speed)
	client := httpClient(len(units))
	errs := make([]error, len(units))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.done(i)
			if err := s.send(ctx, pc, i, u, s.machines[i], newSink(url, client)); err != nil {
				errs[i] = fmt.Errorf("%s: %w", u.ID, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *fleetSource) send(ctx context.Context, pc *pacer, i int, u *unit, mc *sim.Machine, sink ingest.Sink) error {
	t := &tap{next: sink, u: u}
	n := max(1, int(s.opt.Frame.Seconds()*u.Rate))
	buf := make([]float32, n)
	f := wire.RawFrame{Machine: u.ID, Sensor: u.Sensor, SampleRate: u.Rate, Encoding: wire.Float32}
	var sent int64
	for seq := uint64(0); ; seq++ {
		k := mc.Read(buf)
		if k == 0 {
			break
		}
		endNs := patch.SamplesToNs(sent+int64(k), u.Rate)
		if err := pc.wait(ctx, i, endNs); err != nil {
			return err
		}
		f.TimestampNs = s.start + patch.SamplesToNs(sent, u.Rate)
		f.Seq = seq
		f.Float32 = buf[:k]
		if err := t.Send(ctx, &f); err != nil {
			return err
		}
		sent += int64(k)
		pc.at(i, endNs)
	}
	return t.Flush(ctx)
}

// judge scores the pipeline's events on u against the fault schedule.
func (s *fleetSource) judge(u *unit) MachineResult { return judgeFleet(u, s.start) }
