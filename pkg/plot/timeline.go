package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TimelineData is the input of [Timeline]: one score per window or per
// file, in time order.
type TimelineData struct {
	// TimesNs are the points' times (ns since the epoch, ascending); nil
	// plots against the point index ("file #").
	TimesNs []int64
	// Scores, one per point; NaN points are left out.
	Scores []float64
	// Threshold is drawn as a horizontal line and points above it are
	// coloured; NaN leaves it out.
	Threshold float64
	// Alarm, if not nil (one per point), shades the runs of points where
	// the persistent alarm is active.
	Alarm []bool
	// FaultsNs are fault-start times (ns since the epoch, or point indices
	// when TimesNs is nil), drawn as dashed vertical lines.
	FaultsNs []int64
	// LogY draws the score axis logarithmically (scores must be > 0).
	LogY bool
	// YLabel defaults to "anomaly score".
	YLabel string
	// Name labels the score series in the legend; default "score".
	Name string
}

// Timeline draws scores over time with the threshold, the alarm windows
// shaded and fault starts marked. The time axis is relative to the first
// point, in seconds, minutes or hours (chosen so the span is at most 120
// units), or the point index when TimesNs is nil. Default size 1000 × 450
// px, title "Anomaly score over time".
func Timeline(d TimelineData, opt Options) (*Figure, error) {
	w, h, err := opt.size(1000, 450)
	if err != nil {
		return nil, err
	}
	n := len(d.Scores)
	if n == 0 {
		return nil, fmt.Errorf("%w: no scores", ErrData)
	}
	if d.TimesNs != nil && len(d.TimesNs) != n {
		return nil, fmt.Errorf("%w: %d times for %d scores", ErrData, len(d.TimesNs), n)
	}
	if d.Alarm != nil && len(d.Alarm) != n {
		return nil, fmt.Errorf("%w: %d alarm flags for %d scores", ErrData, len(d.Alarm), n)
	}
	// X coordinates.
	x := make([]float64, n)
	xlabel := "file #"
	scale := 1.0
	var t0 int64
	if d.TimesNs == nil {
		for i := range x {
			x[i] = float64(i)
		}
	} else {
		t0 = d.TimesNs[0]
		span := float64(d.TimesNs[n-1]-t0) / 1e9
		unit := "s"
		switch {
		case span > 120*60:
			scale, unit = 3600, "h"
		case span > 120:
			scale, unit = 60, "min"
		}
		xlabel = "time since start (" + unit + ")"
		for i, t := range d.TimesNs {
			if i > 0 && t < d.TimesNs[i-1] {
				return nil, fmt.Errorf("%w: times not ascending at %d", ErrData, i)
			}
			x[i] = float64(t-t0) / 1e9 / scale
		}
	}
	toX := func(t int64) float64 {
		if d.TimesNs == nil {
			return float64(t)
		}
		return float64(t-t0) / 1e9 / scale
	}
	var all, above plotter.XYs
	for i, s := range d.Scores {
		if math.IsNaN(s) {
			continue
		}
		if d.LogY && s <= 0 {
			return nil, fmt.Errorf("%w: score %v at %d on a log axis", ErrData, s, i)
		}
		all = append(all, plotter.XY{X: x[i], Y: s})
		if !math.IsNaN(d.Threshold) && s > d.Threshold {
			above = append(above, plotter.XY{X: x[i], Y: s})
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: every score is NaN", ErrData)
	}
	ylabel := d.YLabel
	if ylabel == "" {
		ylabel = "anomaly score"
	}
	p := newPlot(opt.title("Anomaly score over time"), xlabel, ylabel)
	if d.TimesNs == nil {
		p.X.Tick.Marker = indexTicker
	}
	if d.LogY {
		p.Y.Scale = gplot.LogScale{}
		p.Y.Tick.Marker = logTicker
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = 8, -4

	// Alarm runs: from half-way to the previous point to half-way to the
	// next, so a single alarmed point is a visible band.
	if d.Alarm != nil {
		half := func(i, j int) float64 { return (x[i] + x[j]) / 2 }
		var sp spans
		for i := 0; i < n; {
			if !d.Alarm[i] {
				i++
				continue
			}
			j := i
			for j+1 < n && d.Alarm[j+1] {
				j++
			}
			lo, hi := x[i], x[j]
			switch {
			case i > 0:
				lo = half(i-1, i)
			case j+1 < n:
				lo = x[i] - (x[j+1]-x[j])/2
			}
			switch {
			case j+1 < n:
				hi = half(j, j+1)
			case i > 0:
				hi = x[j] + (x[i]-x[i-1])/2
			}
			if hi == lo {
				lo, hi = lo-0.5, hi+0.5
			}
			sp.X0, sp.X1 = append(sp.X0, lo), append(sp.X1, hi)
			i = j + 1
		}
		sp.Color = colAlarm
		if len(sp.X0) > 0 {
			p.Add(&sp)
			p.Legend.Add("alarm active", &sp)
		}
	}
	ln, err := plotter.NewLine(all)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	ln.LineStyle = line(colNormal, 1.2, false)
	p.Add(ln)
	name := d.Name
	if name == "" {
		name = "score"
	}
	if len(all) <= 400 {
		pts, _ := plotter.NewScatter(all)
		pts.GlyphStyle.Color = colNormal
		pts.GlyphStyle.Radius = vg.Points(1.8)
		pts.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(pts)
		p.Legend.Add(name, ln, pts)
	} else {
		p.Legend.Add(name, ln)
	}
	if !math.IsNaN(d.Threshold) && !math.IsInf(d.Threshold, 0) && (!d.LogY || d.Threshold > 0) {
		tl := &hline{Y: d.Threshold, Style: line(colThreshold, 1.8, true)}
		p.Add(tl)
		p.Legend.Add(fmt.Sprintf("threshold %.4g", d.Threshold), tl)
		if len(above) > 0 {
			sc, _ := plotter.NewScatter(above)
			sc.GlyphStyle.Color = colAnomaly
			sc.GlyphStyle.Radius = vg.Points(2.6)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			p.Legend.Add("above threshold", sc)
		}
	}
	// Head room above the highest point for the legend (top left).
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, q := range all {
		ylo, yhi = math.Min(ylo, q.Y), math.Max(yhi, q.Y)
	}
	if !math.IsNaN(d.Threshold) && !math.IsInf(d.Threshold, 0) && (!d.LogY || d.Threshold > 0) {
		ylo, yhi = math.Min(ylo, d.Threshold), math.Max(yhi, d.Threshold)
	}
	const room = 0.3
	switch {
	case d.LogY && yhi > ylo:
		p.Y.Max = yhi * math.Pow(yhi/ylo, room)
	case yhi > ylo:
		p.Y.Max = yhi + room*(yhi-ylo)
	}
	if len(d.FaultsNs) > 0 {
		fl := &vlines{Style: line(colFault, 1.5, true)}
		for _, f := range d.FaultsNs {
			fl.X = append(fl.X, toX(f))
		}
		p.Add(fl)
		p.Legend.Add("fault start", fl)
	}
	return &Figure{width: w, height: h, draw: func(c draw.Canvas) { p.Draw(c) }, main: p}, nil
}
