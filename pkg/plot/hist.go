package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// HistogramData is the input of [Histogram].
type HistogramData struct {
	// Normal and Anomalous are the scores of each class; either may be
	// empty, not both. NaN scores are an error.
	Normal, Anomalous []float64
	// Threshold is drawn as a vertical line; NaN leaves it out.
	Threshold float64
	// Bins is the number of bins shared by both classes over their joint
	// range; 0 means the Rice rule ⌈2·n^(1/3)⌉ for n scores, clamped to
	// [20, 80].
	Bins int
	// Counts plots raw counts; by default each class is normalised to sum
	// to 1 (share of its class per bin), so a small anomalous set stays
	// visible next to many normal scores.
	Counts bool
	// LogX bins and draws on a logarithmic score axis (every score must be
	// > 0), for heavy-tailed scores.
	LogX bool
	// XLabel defaults to "anomaly score".
	XLabel string
}

// Histogram draws the score distributions of normal and anomalous samples
// as overlaid translucent histograms on shared bins, with the threshold.
// Default size 800 × 500 px, title "Score distribution".
func Histogram(d HistogramData, opt Options) (*Figure, error) {
	w, h, err := opt.size(800, 500)
	if err != nil {
		return nil, err
	}
	n := len(d.Normal) + len(d.Anomalous)
	if n == 0 {
		return nil, fmt.Errorf("%w: no scores", ErrData)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{d.Normal, d.Anomalous} {
		for _, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) || (d.LogX && v <= 0) {
				return nil, fmt.Errorf("%w: score %v (log axis: %v)", ErrData, v, d.LogX)
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	bins := d.Bins
	if bins <= 0 {
		bins = min(80, max(20, int(math.Ceil(2*math.Cbrt(float64(n))))))
	}
	// Bin edges, linear or in log space.
	fw := func(v float64) float64 { return v }
	inv := fw
	if d.LogX {
		fw, inv = math.Log10, func(v float64) float64 { return math.Pow(10, v) }
	}
	a, b := fw(lo), fw(hi)
	if b <= a {
		a, b = a-0.5, b+0.5
		if d.LogX {
			a, b = fw(lo)-0.1, fw(hi)+0.1
		}
	}
	edges := make([]float64, bins+1)
	for i := range edges {
		edges[i] = inv(a + (b-a)*float64(i)/float64(bins))
	}
	var top float64 // highest bar
	hist := func(vals []float64, fill color.RGBA) *plotter.Histogram {
		hb := make([]plotter.HistogramBin, bins)
		for i := range hb {
			hb[i] = plotter.HistogramBin{Min: edges[i], Max: edges[i+1]}
		}
		for _, v := range vals {
			i := int((fw(v) - a) / (b - a) * float64(bins))
			hb[min(max(i, 0), bins-1)].Weight++
		}
		if !d.Counts && len(vals) > 0 {
			for i := range hb {
				hb[i].Weight /= float64(len(vals))
			}
		}
		for _, b := range hb {
			top = math.Max(top, b.Weight)
		}
		// Empty bins would draw as a line along the axis.
		hb = slices.DeleteFunc(hb, func(b plotter.HistogramBin) bool { return b.Weight == 0 })
		translucent := color.NRGBA{fill.R, fill.G, fill.B, 0x90}
		hs := &plotter.Histogram{Bins: hb, Width: (b - a) / float64(bins), FillColor: translucent}
		hs.LineStyle = line(color.RGBA{fill.R / 2, fill.G / 2, fill.B / 2, 0xff}, 0.6, false)
		return hs
	}
	ylabel := "share of class"
	if d.Counts {
		ylabel = "count"
	}
	xlabel := d.XLabel
	if xlabel == "" {
		xlabel = "anomaly score"
	}
	p := newPlot(opt.title("Score distribution"), xlabel, ylabel)
	if d.LogX {
		p.X.Scale = gplot.LogScale{}
		p.X.Tick.Marker = logTicker
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs, p.Legend.YOffs = -8, -4
	if len(d.Normal) > 0 {
		hn := hist(d.Normal, colNormal)
		p.Add(hn)
		p.Legend.Add(fmt.Sprintf("normal (n=%d)", len(d.Normal)), hn)
	}
	if len(d.Anomalous) > 0 {
		ha := hist(d.Anomalous, colAnomaly)
		p.Add(ha)
		p.Legend.Add(fmt.Sprintf("anomalous (n=%d)", len(d.Anomalous)), ha)
	}
	if !math.IsNaN(d.Threshold) && !math.IsInf(d.Threshold, 0) && (!d.LogX || d.Threshold > 0) {
		tl := &vlines{X: []float64{d.Threshold}, Style: line(colThreshold, 2, true)}
		p.Add(tl)
		p.Legend.Add(fmt.Sprintf("threshold %.4g", d.Threshold), tl)
	}
	p.Y.Min = 0
	p.Y.Max = 1.25 * top // head room for the legend
	return &Figure{width: w, height: h, draw: func(c draw.Canvas) { p.Draw(c) }, main: p}, nil
}
