package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mhmstream/mhm/pkg/plot"
	"github.com/mhmstream/mhm/pkg/wire"
)

// Figure sizes (pixels).
const (
	figW, specH, timeH = 1200, 520, 420
	overviewColumns    = 1000
	zoomColumns        = 1000
)

// figureSet is the figures of one machine, file names relative to the
// report folder.
type figureSet struct {
	Spectrogram, Zoom, Timeline string
	ZoomFrom, ZoomTo            string // stream times the zoom spans
}

// writeReport writes the figures, index.html, summary.json, events.jsonl
// and scores.jsonl into dir.
func writeReport(dir string, res *Result, units []*unit, src source) error {
	figs := map[string]figureSet{}
	for _, u := range units {
		fs, err := machineFigures(dir, u, src)
		if err != nil {
			return fmt.Errorf("%s: %w", u.ID, err)
		}
		figs[u.ID] = fs
		for _, f := range []string{fs.Spectrogram, fs.Zoom, fs.Timeline} {
			if f != "" {
				res.Figures = append(res.Figures, filepath.Join(dir, f))
			}
		}
	}
	if err := writeJSONL(filepath.Join(dir, "events.jsonl"), units, func(u *unit) []any {
		out := make([]any, len(u.Events))
		for i := range u.Events {
			out[i] = &u.Events[i]
		}
		return out
	}); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "scores.jsonl"), units, func(u *unit) []any {
		out := make([]any, len(u.Scores))
		for i := range u.Scores {
			out[i] = &u.Scores[i]
		}
		return out
	}); err != nil {
		return err
	}
	res.Report = filepath.Join(dir, "index.html")
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return writeIndex(res.Report, res, units, figs, src)
}

func writeJSONL(path string, units []*unit, items func(*unit) []any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, u := range units {
		for _, it := range items(u) {
			if err := enc.Encode(it); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// machineFigures draws u's spectrogram of the whole stream with its alarms
// marked, a zoom on the first alarm with every anomalous window marked,
// and the score timeline.
func machineFigures(dir string, u *unit, src source) (figureSet, error) {
	var fs figureSet
	sp := u.spec
	if sp == nil || sp.frames() == 0 {
		return fs, fmt.Errorf("nothing was streamed")
	}
	origin := src.origin()
	long := src.long()
	edges := sp.edges()
	zlabel := "log power (dB)"
	if sp.cfg.STFT.WithDefaults().Mels > 0 {
		zlabel = "log-mel power (dB)"
	}
	evs := append([]wire.Event(nil), u.Events...)
	sort.Slice(evs, func(i, j int) bool { return evs[i].WindowStartNs < evs[j].WindowStartNs })

	// Overview: the whole stream, one mark per alarm episode.
	from, to := u.FirstNs, u.EndNs
	vals, colNs := sp.columns(from, to, overviewColumns)
	if vals == nil {
		return fs, fmt.Errorf("no spectrogram frames between the stream's start and end")
	}
	var marks []plot.Mark
	for _, ep := range episodes(evs) {
		// Snap to the columns so that a short alarm stays visible.
		s := from + (ep[0].WindowStartNs-from)/colNs*colNs
		e := from + ceilDiv(sp.shownUntil(ep[len(ep)-1].WindowEndNs)-from, colNs)*colNs
		for _, r := range episodeBands(ep) {
			marks = append(marks, plot.Mark{StartNs: s, EndNs: max(e, s+colNs), LoHz: r[0], HiHz: r[1]})
		}
	}
	title := fmt.Sprintf("%s (%s), %s", u.ID, u.Kind, truthTitle(u, origin, long))
	fig, err := plot.Spectrogram(plot.SpectrogramData{Values: vals, Frames: len(vals) / sp.bins, Bins: sp.bins, StartNs: from, HopNs: colNs,
		BinEdgesHz: edges, ZLabel: zlabel, Marks: marks}, plot.Options{Title: title, Width: figW, Height: specH})
	if err != nil {
		return fs, err
	}
	fs.Spectrogram = u.ID + "-spectrogram.png"
	if err := fig.SavePNG(filepath.Join(dir, fs.Spectrogram)); err != nil {
		return fs, err
	}

	// Zoom on the first alarm (after the onset when there is one).
	if len(evs) > 0 {
		first := evs[0]
		var onset int64
		if len(u.Faults) > 0 {
			onset = u.Faults[0].StartNs
			for _, e := range evs {
				if e.WindowEndNs > onset {
					first = e
					break
				}
			}
		}
		pad := src.zoomPad()
		zf, zt := first.WindowStartNs-pad, first.WindowEndNs+pad
		if onset != 0 && onset < first.WindowStartNs {
			zf = onset - pad/2
			zt = max(zt, zf+3*pad)
		}
		zf, zt = max(zf, from), min(zt, to)
		zv, zcol := sp.columns(zf, zt, zoomColumns)
		if zv != nil {
			var zm []plot.Mark
			for _, e := range evs {
				if e.WindowEndNs <= zf || e.WindowStartNs >= zt {
					continue
				}
				for i, r := range clusters(e.Bands) {
					label := ""
					if i == 0 && e.EventID == first.EventID {
						label = fmt.Sprintf("%.1fx", e.Severity)
					}
					zm = append(zm, plot.Mark{StartNs: max(e.WindowStartNs, zf), EndNs: min(sp.shownUntil(e.WindowEndNs), zt), LoHz: r[0], HiHz: r[1], Label: label})
				}
			}
			fs.ZoomFrom, fs.ZoomTo = relTime(zf-origin, long), relTime(zt-origin, long)
			zt := fmt.Sprintf("%s, first alarm: 0 s on this axis is %s", u.ID, fs.ZoomFrom)
			if onset != 0 {
				zt += fmt.Sprintf("; onset at %.0f s", float64(onset-zf)/1e9)
			}
			fig, err := plot.Spectrogram(plot.SpectrogramData{Values: zv, Frames: len(zv) / sp.bins, Bins: sp.bins, StartNs: zf, HopNs: zcol,
				BinEdgesHz: edges, ZLabel: zlabel, Marks: zm}, plot.Options{Title: zt, Width: figW, Height: specH})
			if err != nil {
				return fs, err
			}
			fs.Zoom = u.ID + "-zoom.png"
			if err := fig.SavePNG(filepath.Join(dir, fs.Zoom)); err != nil {
				return fs, err
			}
		}
	}

	// Score timeline.
	scores := append([]wire.Score(nil), u.Scores...)
	sort.Slice(scores, func(i, j int) bool { return scores[i].WindowStartNs < scores[j].WindowStartNs })
	if len(scores) > 0 {
		td := plot.TimelineData{Threshold: u.Meta.Threshold.Value, Name: "window score (" + scores[0].ScoreType + ")"}
		for _, s := range scores {
			td.TimesNs = append(td.TimesNs, s.WindowStartNs)
			td.Scores = append(td.Scores, s.Score)
			td.Alarm = append(td.Alarm, s.Anomalous)
		}
		for _, f := range u.Faults {
			td.FaultsNs = append(td.FaultsNs, f.StartNs)
		}
		td.LogY = true
		for _, v := range td.Scores {
			if !(v > 0) {
				td.LogY = false
			}
		}
		title := fmt.Sprintf("%s: window scores from the stream (%s of %s), threshold, persistent alarms; %s",
			u.ID, u.Meta.Decision.Window.Aggregation, time.Duration(u.Meta.Decision.Window.LengthNs), truthTitle(u, origin, long))
		fig, err := plot.Timeline(td, plot.Options{Title: title, Width: figW, Height: timeH})
		if err != nil {
			return fs, err
		}
		fs.Timeline = u.ID + "-timeline.png"
		if err := fig.SavePNG(filepath.Join(dir, fs.Timeline)); err != nil {
			return fs, err
		}
	}
	return fs, nil
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// clusters merges the Hz ranges of bands that overlap or touch (mel bands
// overlap their neighbours, linear bins tile) into disjoint ranges, in the
// order of their first band (the most anomalous first).
func clusters(bands []wire.BandScore) [][2]float64 {
	type iv struct {
		lo, hi float64
		first  int // index of the earliest band in it
	}
	ivs := make([]iv, len(bands))
	for i, b := range bands {
		ivs[i] = iv{b.LowHz, b.HighHz, i}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].lo < ivs[j].lo })
	var merged []iv
	for _, v := range ivs {
		if n := len(merged); n > 0 && v.lo <= merged[n-1].hi {
			m := &merged[n-1]
			m.hi, m.first = max(m.hi, v.hi), min(m.first, v.first)
			continue
		}
		merged = append(merged, v)
	}
	sort.Slice(merged, func(i, j int) bool { return merged[i].first < merged[j].first })
	out := make([][2]float64, len(merged))
	for i, m := range merged {
		out[i] = [2]float64{m.lo, m.hi}
	}
	return out
}

// episodeBands are the frequency ranges to mark for an alarm: the top
// bands of all its events merged into disjoint ranges, keeping those that
// hold a top band of at least a quarter of the events (at least the one
// the most events share).
func episodeBands(ep []wire.Event) [][2]float64 {
	var all []wire.BandScore
	for _, e := range ep {
		all = append(all, e.Bands...)
	}
	rs := clusters(all)
	count := make([]int, len(rs))
	for _, e := range ep {
		for i, r := range rs {
			for _, b := range e.Bands {
				if b.LowHz >= r[0] && b.HighHz <= r[1] {
					count[i]++
					break
				}
			}
		}
	}
	best := 0
	for i := range rs {
		if count[i] > count[best] {
			best = i
		}
	}
	var out [][2]float64
	for i, r := range rs {
		if i == best || 4*count[i] >= len(ep) {
			out = append(out, r)
		}
	}
	return out
}

// truthTitle says what was injected, for figure titles.
func truthTitle(u *unit, origin int64, long bool) string {
	if len(u.Faults) == 0 {
		if u.Kind != "" && strings.Contains(u.Kind, "FEMTO") {
			return "run to failure"
		}
		return "healthy"
	}
	f := u.Faults[0]
	s := fmt.Sprintf("%s from %s", f.Fault, relTime(f.StartNs-origin, long))
	if f.VisibleNs != 0 && f.VisibleNs > f.StartNs+int64(10*time.Second) {
		s += fmt.Sprintf(" (clear from %s)", relTime(f.VisibleNs-origin, long))
	}
	if !f.Detectable {
		s += " (too small to detect)"
	}
	return s
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"secs": func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mhm demo report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1260px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;font-size:14px}
th{background:#eee}.bad{color:#b00;font-weight:bold}.good{color:#070}
img{max-width:100%;border:1px solid #ddd;margin:6px 0}code,pre{background:#f4f4f4;padding:2px 4px;font-size:13px}
pre{padding:8px;overflow-x:auto}
</style></head><body>
<h1>mhm demo report</h1>
<p>{{.Intro}}</p>
<h2>Summary</h2>
<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if .Bad}} class="bad"{{end}}>{{.Text}}</td>{{end}}</tr>{{end}}</table>
<ul>{{range .Verdicts}}<li class="{{.Class}}">{{.Text}}</li>{{end}}</ul>
<p>Throughput: {{printf "%.0f" .Res.SensorSeconds}} sensor-seconds streamed and decided in {{secs .Res.StreamWall}} s of wall time
({{printf "%.0f" .Rate}} sensor-seconds per wall second); {{.Res.Windows}} decision windows, {{printf "%.0f" .Res.Patches}} patches scored,
{{.Res.Events}} anomaly events, {{printf "%.0f" .Res.DLQ}} dead letters. Whole run {{secs .Res.TotalWall}} s before the report was written (training {{secs .Res.TrainWall}} s).</p>
<p>Files: <a href="summary.json">summary.json</a>, <a href="events.jsonl">events.jsonl</a> (every anomaly event, JSON as on
<code>mhm.anomalies</code>), <a href="scores.jsonl">scores.jsonl</a> (every decision window, as on <code>mhm.scores</code>),
<a href="models/">models/</a> (the artifacts, <code>train inspect</code> reads them), <a href="pipeline.log">pipeline.log</a> (the stages' logs).</p>
{{range .Machines}}
<h2 id="{{.ID}}">{{.ID}} ({{.Kind}})</h2>
<p>{{.Truth}}. {{.Verdict}}</p>
<p>Model: {{.Fit}}.<br>Trained with <code>train fit {{.Args}}</code></p>
{{if .Spectrogram}}<p>Spectrogram of the stream (computed by the same front end as spectro, with the model's feature configuration); red boxes: alarm episodes, in the frequency range of their top bands.</p>
<img src="{{.Spectrogram}}" alt="{{.ID}} spectrogram">{{end}}
{{if .Zoom}}<p>The first alarm up close ({{.ZoomFrom}} to {{.ZoomTo}}): every decision window that gave an anomaly event, in the range of its top 3 bands.</p>
<img src="{{.Zoom}}" alt="{{.ID}} first alarm">{{end}}
{{if .Timeline}}<p>Window scores as detect decided them, the learned threshold, persistent alarms shaded{{if .HasFault}}, fault onset dashed{{end}}.</p>
<img src="{{.Timeline}}" alt="{{.ID}} score timeline">{{end}}
{{end}}
</body></html>
`))

type cell struct {
	Text string
	Bad  bool
}

type verdict struct{ Text, Class string }

type machineSection struct {
	ID, Kind, Truth, Verdict, Fit, Args string
	HasFault                            bool
	figureSet
}

func writeIndex(path string, res *Result, units []*unit, figs map[string]figureSet, src source) error {
	data := struct {
		Intro    string
		Head     []string
		Rows     [][]cell
		Verdicts []verdict
		Res      *Result
		Rate     float64
		Machines []machineSection
	}{Res: res}
	if res.StreamWall > 0 {
		data.Rate = res.SensorSeconds / res.StreamWall.Seconds()
	}
	origin, long := src.origin(), src.long()
	if res.Mode == "femto" {
		data.Intro = "A FEMTO/PRONOSTIA bearing run to failure, replayed through ingest, spectro and detect on an embedded broker. " +
			"The model was fitted on the first 15% of the snapshots and its threshold learned on 15-20% (the baseline); the rest is monitoring. Times are since the first snapshot."
		data.Head = []string{"bearing", "threshold", "first persistent alarm after the baseline", "% of life", "minutes before the end", "flagged 20-50% of life", "alarms in the baseline"}
		for _, m := range res.Machines {
			row := []cell{{Text: m.Machine}, {Text: fmt.Sprintf("%.4g", m.Threshold)}}
			if m.Detected {
				row = append(row, cell{Text: relTime(int64(m.At), true)}, cell{Text: fmt.Sprintf("%.1f", m.LifePct)}, cell{Text: fmt.Sprintf("%.1f", m.MinutesBeforeEnd)})
			} else {
				row = append(row, cell{Text: "none", Bad: true}, cell{Text: "-"}, cell{Text: "-"})
			}
			row = append(row, cell{Text: fmt.Sprintf("%.1f%%", 100*m.Flagged2050)}, cell{Text: fmt.Sprint(m.BaselineAlarms), Bad: m.BaselineAlarms > 0})
			data.Rows = append(data.Rows, row)
			if m.Detected {
				data.Verdicts = append(data.Verdicts, verdict{Text: fmt.Sprintf("%s: first persistent alarm at %.1f%% of life, %.1f minutes before the end of the test.", m.Machine, m.LifePct, m.MinutesBeforeEnd), Class: "good"})
			} else {
				data.Verdicts = append(data.Verdicts, verdict{Text: m.Machine + ": no persistent alarm after the baseline.", Class: "bad"})
			}
		}
	} else {
		data.Intro = fmt.Sprintf("A simulated fleet of %d machines streamed through ingest, spectro and detect on an embedded broker, faster than real time. "+
			"Each machine's model was trained on its first healthy minutes; faults were injected at known times. Times are stream times (since the stream started, after the training minutes).", len(res.Machines))
		data.Head = []string{"machine", "kind", "fault injected", "detectable", "detected at (delay from onset / from clear)", "missed", "false alarms", "events", "peak score / threshold"}
		for _, m := range res.Machines {
			data.Rows = append(data.Rows, []cell{{Text: m.Machine}, {Text: m.Kind}, {Text: faultText(m)}, {Text: yesNo(m.Detectable, m.Fault != "")},
				{Text: detectText(m), Bad: m.Detectable && !m.Detected}, {Text: missedText(m), Bad: m.Detectable && !m.Detected},
				{Text: fmt.Sprint(m.FalseAlarms), Bad: m.FalseAlarms > 0}, {Text: fmt.Sprint(m.Events)}, {Text: peakText(m.Peak)}})
		}
		if res.AllDetected() {
			data.Verdicts = append(data.Verdicts, verdict{fmt.Sprintf("Every detectable fault was detected (%d of %d).", res.Detected, res.Detectable), "good"})
		} else {
			data.Verdicts = append(data.Verdicts, verdict{fmt.Sprintf("Not every detectable fault was detected: %d of %d.", res.Detected, res.Detectable), "bad"})
		}
		if res.FalseAlarms == 0 {
			data.Verdicts = append(data.Verdicts, verdict{"No false alarm: none on the healthy machines, none before a fault's onset.", "good"})
		} else {
			data.Verdicts = append(data.Verdicts, verdict{fmt.Sprintf("%d false alarms.", res.FalseAlarms), "bad"})
		}
	}
	for i, u := range units {
		m := res.Machines[i]
		sec := machineSection{ID: u.ID, Kind: u.Kind, Fit: u.FitLine, Args: strings.Join(shortArgs(u.FitArgs, filepath.Dir(path)), " "), HasFault: len(u.Faults) > 0, figureSet: figs[u.ID]}
		sec.Truth = "Injected: " + truthTitle(u, origin, long)
		switch {
		case res.Mode == "femto" && m.Detected:
			sec.Verdict = fmt.Sprintf("First persistent alarm after the baseline at %s, %.1f%% of life, %.1f minutes before the end.", relTime(int64(m.At), true), m.LifePct, m.MinutesBeforeEnd)
		case res.Mode == "femto":
			sec.Verdict = "No persistent alarm after the baseline."
		case m.Fault == "" && m.Alarms == 0:
			sec.Verdict = "No alarm."
		case m.Fault == "":
			sec.Verdict = fmt.Sprintf("%d alarms, every one false.", m.Alarms)
		case m.Detected:
			sec.Verdict = fmt.Sprintf("Detected at %s, %.1f s after the onset", relTime(int64(m.At), false), m.Delay.Seconds())
			if m.Visible >= 0 {
				sec.Verdict += fmt.Sprintf(" (%+.1f s from when it was clear)", m.DelayVisible.Seconds())
			}
			if m.TopBand != "" {
				sec.Verdict += ", top band " + m.TopBand
			}
			sec.Verdict += fmt.Sprintf("; %d false alarms before the onset.", m.FalseAlarms)
		case m.Detectable:
			sec.Verdict = "MISSED."
		default:
			sec.Verdict = "Not detected, as expected: the fault stays below what the spectrum shows."
		}
		data.Machines = append(data.Machines, sec)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := indexTmpl.Execute(f, data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
