package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/internal/realdata"
	"github.com/mhmstream/mhm/pkg/signal"
)

// femtoSource is one FEMTO/PRONOSTIA bearing replayed to failure, the
// run-to-failure protocol of ../shared/data/README.md: fit on the first 15 %
// of the snapshots, threshold on 15–20 %, monitor the rest; an alarm is 3
// snapshots in a row above the threshold.
type femtoSource struct {
	opt     Options
	dir     string   // the bearing's snapshots
	paths   []string // acc_*.csv in time order
	channel int
	start   int64   // stream start: the first snapshot, Unix ns
	times   []int64 // start of every snapshot (stream clock)
	k0      int     // first monitored snapshot (20 % of life)
}

func (s *femtoSource) mode() string             { return "femto" }
func (s *femtoSource) origin() int64            { return s.start }
func (s *femtoSource) long() bool               { return true }
func (s *femtoSource) noteEvery() time.Duration { return 10 * time.Minute }
func (s *femtoSource) zoomPad() int64           { return int64(150 * time.Second) }
func (s *femtoSource) streamNs() int64 {
	if len(s.times) == 0 {
		return 0
	}
	return s.times[len(s.times)-1] - s.start
}

// findFEMTO resolves Options.Data to the bearing's folder, unpacking the
// archive into work when it is given (or found, for "auto").
func findFEMTO(data, bearing, work string, out *lockedWriter) (string, error) {
	archive := ""
	switch {
	case data == "auto":
		d, err := realdata.Dir(realdata.FEMTO)
		if err != nil {
			return "", fmt.Errorf("%w (give --data DIR: a folder holding femto/Learning_set/%s or femto.tar.xz)", err, bearing)
		}
		archive = filepath.Join(d, realdata.FEMTO)
	case strings.HasSuffix(data, ".tar.xz"):
		archive = data
	default:
		for _, c := range []string{
			filepath.Join(data, "femto", "Learning_set", bearing),
			filepath.Join(data, "Learning_set", bearing),
			filepath.Join(data, bearing),
			data,
		} {
			if m, _ := filepath.Glob(filepath.Join(c, "acc_*.csv")); len(m) > 0 {
				return c, nil
			}
		}
		if _, err := os.Stat(filepath.Join(data, realdata.FEMTO)); err == nil {
			archive = filepath.Join(data, realdata.FEMTO)
		} else {
			return "", fmt.Errorf("%w: %s holds neither femto/Learning_set/%s/acc_*.csv nor %s", ErrOptions, data, bearing, realdata.FEMTO)
		}
	}
	dest := filepath.Join(work, "femto-data")
	dir := filepath.Join(dest, "femto", "Learning_set", bearing)
	if m, _ := filepath.Glob(filepath.Join(dir, "acc_*.csv")); len(m) > 0 {
		return dir, nil // unpacked by an earlier run (--keep-work)
	}
	if err := mkdir(dest); err != nil {
		return "", err
	}
	out.printf("unpacking %s into %s ...\n", archive, dest)
	if err := realdata.Extract(archive, dest); err != nil {
		return "", err
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "acc_*.csv")); len(m) == 0 {
		return "", fmt.Errorf("%s has no femto/Learning_set/%s/acc_*.csv", archive, bearing)
	}
	return dir, nil
}

func (s *femtoSource) prepare(ctx context.Context, out *lockedWriter) ([]*unit, error) {
	o := s.opt
	dir, err := findFEMTO(o.Data, o.Bearing, filepath.Join(o.Out, "work"), out)
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if s.paths, err = signal.Expand([]string{dir}); err != nil {
		return nil, err
	}
	n := len(s.paths)
	if n < 20 {
		return nil, fmt.Errorf("%s: %d snapshots, too few for the run-to-failure protocol", dir, n)
	}
	// Snapshot times as ingest replay will stamp them: the first at the
	// stream start, each later one at its own offset from the one before.
	s.start = time.Now().Truncate(time.Second).UnixNano()
	first, err := signal.Read(s.paths[0], signal.Options{})
	if err != nil {
		return nil, err
	}
	if s.channel = first.ChannelIndex("horizontal"); s.channel < 0 {
		return nil, fmt.Errorf("%s: no horizontal channel (channels %v)", s.paths[0], first.Names)
	}
	at, prevOwn, prevEnd := s.start, first.StartNs, s.start
	for i, p := range s.paths {
		sig := first
		if i > 0 {
			if sig, err = signal.Read(p, signal.Options{}); err != nil {
				return nil, err
			}
			d := sig.StartNs - prevOwn
			for d < 0 {
				d += int64(24 * time.Hour)
			}
			at = max(at+d, prevEnd)
			prevOwn = sig.StartNs
		}
		s.times = append(s.times, at)
		prevEnd = at + int64(sig.Duration())
	}
	s.k0 = int(math.Round(0.2 * float64(n)))
	id := "femto-" + o.Bearing
	u := &unit{ID: id, Kind: fmt.Sprintf("FEMTO bearing, horizontal, %.1f kHz", first.Rate/1000), Sensor: "horizontal", Rate: first.Rate}
	life := time.Duration(s.times[n-1] - s.start)
	out.printf("mhm demo: FEMTO/PRONOSTIA %s run to failure: %d snapshots of %.1f s every %.0f s, %.1f h of life (%s)\n",
		o.Bearing, n, first.Duration().Seconds(), float64(s.times[1]-s.times[0])/1e9, life.Hours(), dir)
	out.printf("protocol: fit on the first 15%% of the snapshots, threshold on 15-20%%, monitor the rest; alarm = 3 snapshots in a row above the threshold\n")
	out.printf("report folder: %s\n\n", o.Out)

	u.ModelPath = filepath.Join(o.Out, "models", id+".mhm")
	args := []string{"--machine", id, "--out", u.ModelPath, "--model", o.FemtoModel, "--channel", "horizontal",
		"--calibrate-split", "0.25", "--seed", strconv.FormatUint(o.Seed, 10)}
	if o.Epochs > 0 { // else train fit's default, 100 (the DCASE baseline's)
		args = append(args, "--epochs", strconv.Itoa(o.Epochs))
	}
	args = append(args, dir+"@0:0.2")
	out.printf("train 1/1 %s: train fit %s\n", id, strings.Join(shortArgs(args, o.Out), " "))
	t0 := time.Now()
	res, err := fitModel(ctx, args, func(line string) { out.printf("      %s\n", line) }, 10)
	if err != nil {
		return nil, err
	}
	if u.Meta, err = modelMeta(u.ModelPath); err != nil {
		return nil, err
	}
	u.FitLine, u.FitArgs = fitSummary(res, time.Since(t0)), args
	out.printf("      -> %s\n", u.FitLine)
	if u.spec, err = newSpecStore(u.Meta.Feature); err != nil {
		return nil, err
	}
	return []*unit{u}, nil
}

// stream replays the snapshots with ingest's replay code, posting them to
// ingest's API.
func (s *femtoSource) stream(ctx context.Context, url string, units []*unit, out *lockedWriter) error {
	u := units[0]
	t := &tap{next: newSink(url, httpClient(1)), u: u}
	sum, err := ingest.Replay(ctx, ingest.ReplayConfig{Machine: u.ID, Sensor: u.Sensor, Channel: s.channel, Speed: s.opt.Speed,
		FrameMs: float64(s.opt.Frame) / 1e6, StartNs: s.start}, s.paths, t)
	if err != nil {
		return err
	}
	if sum.Files != len(s.paths) {
		return errors.New("replay: not every snapshot was sent")
	}
	return nil
}

// judge finds the first persistent alarm after the baseline.
func (s *femtoSource) judge(u *unit) MachineResult {
	r := MachineResult{Machine: u.ID, Kind: u.Kind, Fault: "run to failure", Detectable: true, Visible: -1,
		Events: len(u.Events), Windows: len(u.Scores), Threshold: u.Meta.Threshold.Value}
	n := len(s.times)
	t0, tEnd, mon := s.times[0], s.times[n-1], s.times[s.k0]
	lifeOf := func(t int64) float64 { return float64(t-t0) / float64(tEnd-t0) }
	var in, above int
	for _, sc := range u.Scores {
		if sc.Score > sc.Threshold {
			r.Above++
		}
		if l := lifeOf(sc.WindowStartNs); l >= 0.2 && l < 0.5 {
			in++
			if sc.Score > sc.Threshold {
				above++
			}
		}
	}
	if in > 0 {
		r.Flagged2050 = float64(above) / float64(in)
	}
	for _, e := range u.Events {
		r.Peak = max(r.Peak, e.Severity)
	}
	eps := episodes(u.Events)
	r.Alarms = len(eps)
	for _, ep := range eps {
		if ep[len(ep)-1].WindowStartNs < mon {
			r.BaselineAlarms++
		}
	}
	for _, ep := range eps {
		for _, e := range ep {
			if e.WindowStartNs >= mon {
				r.Detected = true
				r.At = time.Duration(e.WindowStartNs - s.start)
				r.LifePct = 100 * lifeOf(e.WindowStartNs)
				r.MinutesBeforeEnd = float64(tEnd-e.WindowStartNs) / 60e9
				if len(e.Bands) > 0 {
					r.TopBand = hzRange(e.Bands[0].LowHz, e.Bands[0].HighHz)
				}
				return r
			}
		}
	}
	return r
}
