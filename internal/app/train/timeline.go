package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/plot"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// TimelineVerb is `train timeline`.
func TimelineVerb() cli.Verb {
	return cli.Verb{Name: "timeline", Summary: "score a run-to-failure sequence in time order: scores, threshold, persistent alarms (PNG and JSON)", Run: runTimeline}
}

const timelineHelp = `Scores time-ordered recordings (e.g. the snapshots of a run-to-failure test)
with a model and marks the persistent alarms: a window above the threshold
counts, and an alarm is raised when the model's persistence rule holds (K of
the last N above; 3/3 by default). Writes DIR/timeline.png and
DIR/timeline.json and prints a summary:

  first persistent alarm   as item, % of life and minutes before the last item
  flagged share            items above the threshold within --share-span of life

Monitoring starts after the baseline: the model's calibration recordings when
they are among PATHS (found by path), or --baseline FROM:TO (fractions of the
items). With --indicators, classical health indicators of each item's samples
(rms, kurtosis, peak, crest, skewness; pkg/indicator) are put through the same
code: a threshold learned on their baseline values with the model's method and
parameter, the same persistence rule, the same summary, and a PNG each.

Times come from the recordings (FEMTO snapshots carry a time of day; a wrap
past midnight is unwrapped), or from --interval (time between items); when
neither gives increasing times, life is counted in items.

Example:
  train timeline --model b2_1.mhm --plots out/b2_1 --indicators rms,kurtosis femto/Bearing2_1/`

// seriesResult is the analysis of one score series.
type seriesResult struct {
	Name             string              `json:"name"`
	Threshold        threshold.Threshold `json:"threshold"`
	MonitorFrom      int                 `json:"monitor_from"`     // first monitored item
	FirstAlarm       int                 `json:"first_alarm"`      // item index, -1: none
	FirstAlarmItem   string              `json:"first_alarm_item"` // its name
	LifePct          float64             `json:"first_alarm_life_pct"`
	MinutesBeforeEnd float64             `json:"first_alarm_minutes_before_end"`
	FlaggedShare     float64             `json:"flagged_share"` // above threshold within the share span
	FlaggedItems     int                 `json:"flagged_items"`
	ShareItems       int                 `json:"share_items"`
	Above            []bool              `json:"-"`
	Alarm            []bool              `json:"-"`
	Values           []float64           `json:"-"`
}

type timelineItem struct {
	Item       string             `json:"item"`
	TimeNs     int64              `json:"time_ns"`
	LifePct    float64            `json:"life_pct"`
	Score      float64            `json:"score"`
	Above      bool               `json:"above"`
	Alarm      bool               `json:"alarm"`
	Indicators map[string]float64 `json:"indicators,omitempty"`
}

type timelineJSON struct {
	Model       string                      `json:"model"`
	Persistence threshold.PersistenceConfig `json:"persistence"`
	Baseline    [2]int                      `json:"baseline"` // items [from, to)
	ShareSpan   [2]float64                  `json:"share_span"`
	TimeKnown   bool                        `json:"time_known"`
	Series      []seriesResult              `json:"series"`
	Items       []timelineItem              `json:"items"`
}

var indicatorNames = []string{"rms", "kurtosis", "peak", "crest", "skewness"}

func runTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("train timeline", "train timeline --model MODEL --plots DIR [flags] PATHS...", timelineHelp, stderr)
	path := fs.String("model", "", "model artifact (required)")
	plots := fs.String("plots", "", "folder for timeline.png, timeline.json and the indicators' PNGs (required; created if missing)")
	asJSON := fs.Bool("json", false, "print the JSON document instead of the text summary")
	baseline := fs.String("baseline", "", "FROM:TO, fractions of the items whose values calibrate the indicators' thresholds; monitoring starts at TO; default: the model's calibration recordings")
	shareSpan := fs.String("share-span", "0.2:0.5", "FROM:TO, the part of life (fractions) whose flagged share is reported")
	inds := fs.String("indicators", "", "comma-separated health indicators to put through the same analysis: "+strings.Join(indicatorNames, ", "))
	var interval durationFlag
	fs.Var(&interval, "interval", "time between consecutive items (e.g. 10s), when the recordings carry no usable times")
	in := addInputFlags(fs, "; default: as the model was trained")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *plots == "" {
		return fmt.Errorf("%w: --plots is required", cli.ErrUsage)
	}
	shLo, shHi, err := parseSpan("share-span", *shareSpan)
	if err != nil {
		return err
	}
	var indList []string
	if *inds != "" {
		for _, n := range strings.Split(*inds, ",") {
			n = strings.TrimSpace(n)
			if err := cli.OneOf("indicators", n, indicatorNames...); err != nil {
				return err
			}
			indList = append(indList, n)
		}
	}
	l, items, err := loadAndRead(ctx, *path, in, fs.Args())
	if err != nil {
		return err
	}
	n := len(items)
	times, known := itemTimes(items, time.Duration(interval))
	life := make([]float64, n)
	for i := range items {
		switch {
		case n == 1:
			life[i] = 0
		case known:
			life[i] = float64(times[i]-times[0]) / float64(times[n-1]-times[0])
		default:
			life[i] = float64(i) / float64(n-1)
		}
	}
	// Baseline: explicit, or the model's calibration recordings.
	bLo, bHi := 0, 0
	if *baseline != "" {
		lo, hi, err := parseSpan("baseline", *baseline)
		if err != nil {
			return err
		}
		bLo, bHi = int(math.Round(lo*float64(n))), int(math.Round(hi*float64(n)))
	} else {
		bLo, bHi = findCalibration(items, l.Meta.Training.CalibrationFiles)
	}
	if len(indList) > 0 && bHi <= bLo {
		return fmt.Errorf("%w: the indicators need a baseline: none of the model's calibration recordings is among PATHS; give --baseline FROM:TO", cli.ErrUsage)
	}

	eng := newEngine(l)
	scores := make([]float64, n)
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		scores[i] = eng.score(it, 0, it.N).Score
	}
	an := analyzer{items: items, times: times, known: known, life: life, monitorFrom: bHi, shareLo: shLo, shareHi: shHi,
		persist: l.Meta.Decision.Persistence}
	series := []seriesResult{an.run("model "+l.Meta.Kind, scores, l.Meta.Threshold)}
	indVals := map[string][]float64{}
	for _, name := range indList {
		v := make([]float64, n)
		for i, it := range items {
			v[i] = indicatorValue(it, name)
		}
		indVals[name] = v
		// The model's threshold method and parameter, fitted on the
		// baseline items' values.
		th, err := threshold.Fit(l.Meta.Threshold.Method, v[bLo:bHi], l.Meta.Threshold.Param)
		if err != nil {
			return fmt.Errorf("indicator %s: threshold on the %d baseline items: %w", name, bHi-bLo, err)
		}
		series = append(series, an.run(name, v, th))
	}

	out := timelineJSON{Model: l.Meta.Version, Persistence: an.persist, Baseline: [2]int{bLo, bHi}, ShareSpan: [2]float64{shLo, shHi}, TimeKnown: known, Series: series}
	for i, it := range items {
		ti := timelineItem{Item: it.Name(), LifePct: 100 * life[i], Score: scores[i], Above: series[0].Above[i], Alarm: series[0].Alarm[i]}
		if known {
			ti.TimeNs = times[i]
		}
		if len(indList) > 0 {
			ti.Indicators = map[string]float64{}
			for _, name := range indList {
				ti.Indicators[name] = indVals[name][i]
			}
		}
		out.Items = append(out.Items, ti)
	}
	if err := os.MkdirAll(*plots, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*plots, "timeline.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var tns []int64
	if known {
		tns = times
	}
	for k, s := range series {
		file := "timeline.png"
		title := fmt.Sprintf("%s: %s score", l.Meta.Machine, l.Meta.Kind)
		name := "score"
		if k > 0 {
			file, title, name = "timeline-"+s.Name+".png", fmt.Sprintf("%s: %s", l.Meta.Machine, s.Name), s.Name
		}
		fig, err := plot.Timeline(plot.TimelineData{TimesNs: tns, Scores: s.Values, Threshold: s.Threshold.Value, Alarm: s.Alarm, Name: name, YLabel: name}, plot.Options{Title: title})
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := fig.SavePNG(filepath.Join(*plots, file)); err != nil {
			return err
		}
	}
	if *asJSON {
		_, err := stdout.Write(append(b, '\n'))
		return err
	}
	pk, pn := persistKN(an.persist)
	fmt.Fprintf(stdout, "model %s: %d items, baseline items %d-%d, monitoring from item %d, persistence %d of %d\n",
		l.Meta.Version, n, bLo, bHi, bHi, pk, pn)
	fmt.Fprintf(stdout, "\n| series | threshold | first persistent alarm | %% of life | min before end | flagged %g-%g%% of life |\n|---|---|---|---|---|---|\n", 100*shLo, 100*shHi)
	for _, s := range series {
		alarm, pct, mins := "none", "-", "-"
		if s.FirstAlarm >= 0 {
			alarm = filepath.Base(s.FirstAlarmItem)
			pct = fmt.Sprintf("%.1f", s.LifePct)
			if known {
				mins = fmt.Sprintf("%.1f", s.MinutesBeforeEnd)
			}
		}
		fmt.Fprintf(stdout, "| %s | %.4g | %s | %s | %s | %.1f%% (%d/%d) |\n", s.Name, s.Threshold.Value, alarm, pct, mins, 100*s.FlaggedShare, s.FlaggedItems, s.ShareItems)
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", filepath.Join(*plots, "timeline.{png,json}"))
	return nil
}

// analyzer runs the same analysis on every series.
type analyzer struct {
	items            []*item
	times            []int64
	known            bool
	life             []float64
	monitorFrom      int
	shareLo, shareHi float64
	persist          threshold.PersistenceConfig
}

// run thresholds values, replays the persistence rule from monitorFrom on
// and summarises: first persistent alarm, flagged share in the span.
func (a analyzer) run(name string, values []float64, th threshold.Threshold) seriesResult {
	n := len(values)
	r := seriesResult{Name: name, Threshold: th, MonitorFrom: a.monitorFrom, FirstAlarm: -1, Values: values,
		Above: make([]bool, n), Alarm: make([]bool, n)}
	for i, v := range values {
		r.Above[i] = th.Above(v)
	}
	mon := r.Above[min(a.monitorFrom, n):]
	threshold.AlarmStates(r.Alarm[min(a.monitorFrom, n):], mon, a.persist)
	if i := threshold.FirstAlarm(mon, a.persist); i >= 0 {
		i += a.monitorFrom
		r.FirstAlarm, r.FirstAlarmItem = i, a.items[i].Name()
		r.LifePct = 100 * a.life[i]
		if a.known {
			r.MinutesBeforeEnd = float64(a.times[n-1]-a.times[i]) / 60e9
		}
	}
	for i := range values {
		if a.life[i] >= a.shareLo && a.life[i] < a.shareHi {
			r.ShareItems++
			if r.Above[i] {
				r.FlaggedItems++
			}
		}
	}
	if r.ShareItems > 0 {
		r.FlaggedShare = float64(r.FlaggedItems) / float64(r.ShareItems)
	}
	return r
}

// itemTimes returns each item's time (ns) and whether the times are real:
// --interval spacing, else the recordings' start times when they increase
// (a decrease of about a day, FEMTO's time of day passing midnight, is
// unwrapped).
func itemTimes(items []*item, interval time.Duration) ([]int64, bool) {
	t := make([]int64, len(items))
	if interval > 0 {
		for i := range t {
			t[i] = int64(i) * int64(interval)
		}
		return t, true
	}
	const day = int64(24 * time.Hour)
	var add int64
	for i, it := range items {
		t[i] = it.StartNs + add
		if i > 0 && t[i] < t[i-1] && t[i-1]-t[i] > day/2 {
			add += day
			t[i] += day
		}
		if i > 0 && t[i] <= t[i-1] {
			return t, false
		}
	}
	return t, len(items) > 1
}

// findCalibration returns the items [lo, hi) that make up the model's
// calibration recordings, matched by absolute path (0, 0 if none).
func findCalibration(items []*item, cal []string) (int, int) {
	want := map[string]bool{}
	for _, c := range cal {
		want[c] = true
	}
	lo, hi := -1, -1
	for i, it := range items {
		name := absSource(it.Source)
		if it.Segment >= 0 {
			name = fmt.Sprintf("%s[%.3f-%.3fs]", absPath(it.Source.Path), it.Offset, it.Offset+it.Seconds)
		}
		if want[name] {
			if lo < 0 {
				lo = i
			}
			hi = i + 1
		}
	}
	if lo < 0 {
		return 0, 0
	}
	return lo, hi
}

func indicatorValue(it *item, name string) float64 {
	switch name {
	case "rms":
		return it.Ind.RMS
	case "kurtosis":
		return it.Ind.Kurtosis
	case "peak":
		return it.Ind.Peak
	case "crest":
		return it.Ind.Crest
	case "skewness":
		return it.Ind.Skewness
	}
	panic("train: unknown indicator " + name)
}

// parseSpan parses FROM:TO fractions with 0 <= FROM < TO <= 1.
func parseSpan(flagName, s string) (float64, float64, error) {
	a, b, ok := strings.Cut(s, ":")
	lo, err1 := fraction(a, 0)
	hi, err2 := fraction(b, 1)
	if !ok || err1 != nil || err2 != nil || lo >= hi {
		return 0, 0, fmt.Errorf("%w: --%s %q: want FROM:TO with 0 <= FROM < TO <= 1", cli.ErrUsage, flagName, s)
	}
	return lo, hi, nil
}
