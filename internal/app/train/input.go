package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/indicator"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/signal"
)

// source is one recording named on the command line, with the share of it
// to use: samples [From·L, To·L) of its L samples.
type source struct {
	Path     string
	From, To float64
}

// rangeSuffix is the "@FROM:TO" a PATH may end with.
var rangeSuffix = regexp.MustCompile(`@([0-9]*\.?[0-9]*):([0-9]*\.?[0-9]*)$`)

// parseSources expands the PATHS of a command line (files, folders, globs;
// signal.Expand) in order. An argument may end with @FROM:TO, fractions in
// [0, 1] (either may be empty: 0 and 1): for a file, the part of the
// recording to use (samples [FROM·L, TO·L)); for a folder or glob, the
// files to use (files [FROM·n, TO·n) of its n in natural order, rounded).
// An argument that names an existing file is taken literally even if it
// looks like that (CWRU names hold an @).
func parseSources(args []string) ([]source, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: no recordings given (PATHS: files, folders or globs)", cli.ErrUsage)
	}
	var out []source
	for _, arg := range args {
		from, to := 0.0, 1.0
		path := arg
		if _, err := os.Stat(arg); err != nil {
			if m := rangeSuffix.FindStringSubmatch(arg); m != nil {
				path = strings.TrimSuffix(arg, m[0])
				var err error
				if from, err = fraction(m[1], 0); err == nil {
					to, err = fraction(m[2], 1)
				}
				if err != nil || from >= to {
					return nil, fmt.Errorf("%w: %s: the range %s must be FROM:TO with 0 <= FROM < TO <= 1", cli.ErrUsage, arg, m[0])
				}
			}
		}
		files, err := signal.Expand([]string{path})
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(path); (err != nil || st.IsDir()) && (from != 0 || to != 1) {
			// A folder or glob: the range selects its files.
			lo, hi := int(math.Round(from*float64(len(files)))), int(math.Round(to*float64(len(files))))
			if lo >= hi {
				return nil, fmt.Errorf("%w: %s: the range selects none of its %d files", cli.ErrUsage, arg, len(files))
			}
			files, from, to = files[lo:hi], 0, 1
		}
		for _, f := range files {
			out = append(out, source{Path: f, From: from, To: to})
		}
	}
	return out, nil
}

func fraction(s string, def float64) (float64, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("fraction %q not in [0, 1]", s)
	}
	return v, nil
}

// String returns the source as it can be given again.
func (s source) String() string {
	if s.From == 0 && s.To == 1 {
		return s.Path
	}
	return fmt.Sprintf("%s@%g:%g", s.Path, s.From, s.To)
}

// inputFlags are the flags of every verb that reads recordings.
type inputFlags struct {
	fs       *cli.FlagSet
	channel  string
	sr       float64
	variable string
	segment  durationFlag
}

func addInputFlags(fs *cli.FlagSet, defaults string) *inputFlags {
	f := &inputFlags{fs: fs}
	fs.StringVar(&f.channel, "channel", "", "channel to use: an index counting from 0 or a name (FEMTO: horizontal, vertical; MAT: the variable name)"+defaults)
	fs.Float64Var(&f.sr, "sr", 0, "sample rate in Hz of CSV files (which do not store one) and of MAT files whose name does not say 12k/48k")
	fs.StringVar(&f.variable, "variable", "", "MAT variable to read: exact name or suffix such as _DE_time (CWRU drive end)"+defaults)
	fs.Var(&f.segment, "segment", "cut every recording into consecutive windows of this length (e.g. 0.2s, 200ms, or seconds), each scored as its own item; the last partial window is dropped; 0: whole files"+defaults)
	return f
}

// resolve returns the input settings: the model's (when m is not nil) with
// the flags given on the command line applied over them.
func (f *inputFlags) resolve(m *model.Input) model.Input {
	var in model.Input
	if m != nil {
		in = *m
	}
	set := cli.Explicit(f.fs.FlagSet)
	if set["channel"] || m == nil {
		in.Channel = f.channel
	}
	if set["variable"] || m == nil {
		in.Variable = f.variable
	}
	if set["segment"] || m == nil {
		in.SegmentNs = int64(f.segment)
	}
	if set["sr"] || m == nil {
		in.SourceRate = f.sr
	}
	return in
}

// durationFlag is a duration given as a Go duration ("200ms", "0.2s") or
// a number of seconds ("0.2").
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }
func (d *durationFlag) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v < 0 || math.IsNaN(v) || v > 1e9 {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return time.Duration(math.Round(v * 1e9)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 0.2s, 200ms or 0.2 (seconds)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return v, nil
}

// item is the unit that gets one score: a whole recording or one of its
// --segment windows, with its patches.
type item struct {
	Source  source
	Segment int     // window index within the used range, -1 for a whole file
	Offset  float64 // seconds from the start of the file
	Seconds float64 // length
	StartNs int64   // the recording's start time (where the format gives one) plus Offset

	N       int       // patches
	Values  []float32 // N × Dim, frame-major patch values
	Bands   []int     // band index of each patch
	TimesNs []int64   // start of each patch, ns from the item's start

	Ind indicator.Indicators // RMS, kurtosis, ... of the item's samples
}

// Name returns the item's file and, for a segment, its time range.
func (it *item) Name() string {
	if it.Segment < 0 {
		return it.Source.Path
	}
	return fmt.Sprintf("%s[%.3f-%.3fs]", it.Source.Path, it.Offset, it.Offset+it.Seconds)
}

// reader turns sources into items with the feature front end.
type reader struct {
	in     model.Input
	cfg    feature.Config // zero until resolved
	config func(rate float64, path string) (feature.Config, error)
	// from says where cfg comes from, for errors ("the model's ...").
	from string
	ext  *feature.Extractor
	dim  int
	// keep the first file's channel resolution to report it
	channelName string
	channelIdx  int
	rate        float64
}

// read reads one source: its channel, its range, its segments, their
// patches and indicators.
func (r *reader) read(src source) ([]*item, error) {
	sig, err := signal.Read(src.Path, signal.Options{Rate: r.in.SourceRate, Variable: r.in.Variable})
	if err != nil {
		return nil, err
	}
	if r.ext == nil {
		if r.cfg.SampleRate == 0 {
			if r.cfg, err = r.config(sig.Rate, src.Path); err != nil {
				return nil, err
			}
		}
		r.rate, r.dim = r.cfg.SampleRate, r.cfg.Dim()
		if r.ext, err = feature.NewExtractor(r.cfg, "", "", 0); err != nil {
			return nil, err
		}
	}
	if sig.Rate != r.cfg.SampleRate {
		from := r.from
		if from == "" {
			from = "the first recording's rate"
		}
		return nil, fmt.Errorf("%s: sample rate %g Hz, but the features are computed at %g Hz (%s): resample the recording, or fit a model on %g Hz data", src.Path, sig.Rate, r.cfg.SampleRate, from, sig.Rate)
	}
	ch, err := channelOf(sig, r.in.Channel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Path, err)
	}
	if r.channelName == "" && len(sig.Names) > ch {
		r.channelName = sig.Names[ch]
	}
	r.channelIdx = ch
	x := sig.Channel(ch)
	lo, hi := int(math.Round(src.From*float64(len(x)))), int(math.Round(src.To*float64(len(x))))
	x = x[lo:hi]
	var items []*item
	rate := sig.Rate
	if r.in.SegmentNs > 0 {
		w := int(math.Round(float64(r.in.SegmentNs) * 1e-9 * rate))
		if w < 1 {
			return nil, fmt.Errorf("%w: --segment %v is shorter than one sample", cli.ErrUsage, time.Duration(r.in.SegmentNs))
		}
		for k := 0; (k+1)*w <= len(x); k++ {
			items = append(items, r.item(src, k, float64(lo+k*w)/rate, x[k*w:(k+1)*w], sig.StartNs))
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("%s: %d samples (%.3f s) in the range used, shorter than one --segment of %v", src.Path, len(x), float64(len(x))/rate, time.Duration(r.in.SegmentNs))
		}
	} else {
		items = append(items, r.item(src, -1, float64(lo)/rate, x, sig.StartNs))
	}
	for _, it := range items {
		if it.N == 0 {
			return nil, fmt.Errorf("%s: %.3f s of signal makes no patch of %d frames: use longer recordings or segments, or fewer --patch-frames", it.Name(), it.Seconds, r.cfg.Patch.WithDefaults().Frames)
		}
	}
	return items, nil
}

func (r *reader) item(src source, seg int, offset float64, x []float32, startNs int64) *item {
	it := &item{Source: src, Segment: seg, Offset: offset, Seconds: float64(len(x)) / r.cfg.SampleRate,
		StartNs: startNs + int64(math.Round(offset*1e9)), Ind: indicator.Compute(x)}
	emit := func(p *patch.Patch) {
		it.Values = append(it.Values, p.Values...)
		it.Bands = append(it.Bands, p.Band)
		it.TimesNs = append(it.TimesNs, p.StartNs)
		it.N++
	}
	r.ext.Reset(0)
	r.ext.Write(x, emit)
	r.ext.Flush(emit)
	return it
}

// channelOf resolves --channel: empty is 0, a number an index, anything
// else a channel name.
func channelOf(sig *signal.Signal, spec string) (int, error) {
	if spec == "" {
		return 0, nil
	}
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 || i >= sig.NumChannels() {
			return 0, fmt.Errorf("%w: --channel %d: the recording has %d channel(s)%s", cli.ErrUsage, i, sig.NumChannels(), names(sig))
		}
		return i, nil
	}
	if i := sig.ChannelIndex(spec); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("%w: --channel %q: no such channel%s", cli.ErrUsage, spec, names(sig))
}

func names(sig *signal.Signal) string {
	if len(sig.Names) == 0 {
		return ""
	}
	return " (" + strings.Join(sig.Names, ", ") + ")"
}

// readAll reads every source in order; a cancelled ctx stops it.
func (r *reader) readAll(ctx context.Context, srcs []source) ([]*item, error) {
	var out []*item
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		its, err := r.read(s)
		if err != nil {
			return nil, err
		}
		out = append(out, its...)
	}
	return out, nil
}

// absPath returns the absolute form of a path for the artifact's record
// (the path as given when it cannot be resolved).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
