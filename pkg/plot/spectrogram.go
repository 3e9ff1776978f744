package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SpectrogramData is the input of [Spectrogram].
type SpectrogramData struct {
	// Values is frame-major: the value of frame t, bin f is
	// Values[t*Bins+f] (the layout of mhm's patches), e.g. log-mel power.
	Values       []float32
	Frames, Bins int
	// StartNs is the time of frame 0 and HopNs the frame hop (> 0), in
	// ns; frame t is drawn over [StartNs + t·HopNs, StartNs + (t+1)·HopNs).
	StartNs, HopNs int64
	// BinEdgesHz (length Bins+1, ascending) gives the frequency range of
	// each bin: bin f covers [BinEdgesHz[f], BinEdgesHz[f+1]). Bins are
	// drawn with equal heights (so mel bins look as a mel spectrogram
	// does) and the axis is labelled in Hz. Nil means linear bins over
	// [0, MaxHz]: see [LinearEdges] and [EdgesFromCenters].
	BinEdgesHz []float64
	MaxHz      float64
	// ZMin and ZMax set the colour range; both 0 means the data's
	// minimum and maximum.
	ZMin, ZMax float64
	// ZLabel labels the colour bar, e.g. "log-mel energy (dB)".
	ZLabel string
	// Marks outline anomalous patches.
	Marks []Mark
}

// Mark outlines a patch: the time span [StartNs, EndNs) and the frequency
// range [LoHz, HiHz], as a patch's Tag gives them.
type Mark struct {
	StartNs, EndNs int64
	LoHz, HiHz     float64
	// Label is written above the box's top-left corner (e.g. the score);
	// "" for none.
	Label string
}

// LinearEdges returns the bin edges of bins linear bins over [0, maxHz]:
// edge k = k·maxHz/bins. It allocates.
func LinearEdges(bins int, maxHz float64) []float64 {
	e := make([]float64, bins+1)
	for k := range e {
		e[k] = float64(k) * maxHz / float64(bins)
	}
	return e
}

// EdgesFromCenters returns bin edges from ascending centre frequencies
// (e.g. of a mel filterbank): midpoints between neighbours, the outer
// edges extrapolated by half the outer spacing and clamped at 0. It needs
// at least 2 centres and allocates.
func EdgesFromCenters(centers []float64) []float64 {
	n := len(centers)
	if n < 2 {
		panic("plot: EdgesFromCenters needs at least 2 centres")
	}
	e := make([]float64, n+1)
	for k := 1; k < n; k++ {
		e[k] = (centers[k-1] + centers[k]) / 2
	}
	e[0] = math.Max(0, centers[0]-(centers[1]-centers[0])/2)
	e[n] = centers[n-1] + (centers[n-1]-centers[n-2])/2
	return e
}

// hzToBin maps a frequency to the bin axis: bin f spans [f, f+1), linear
// in Hz inside a bin; clamped to [0, len(edges)-1].
func hzToBin(edges []float64, hz float64) float64 {
	n := len(edges) - 1
	if hz <= edges[0] {
		return 0
	}
	if hz >= edges[n] {
		return float64(n)
	}
	lo, hi := 0, n // edges[lo] ≤ hz < edges[hi]
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if edges[m] <= hz {
			lo = m
		} else {
			hi = m
		}
	}
	return float64(lo) + (hz-edges[lo])/(edges[lo+1]-edges[lo])
}

func binToHz(edges []float64, y float64) float64 {
	n := len(edges) - 1
	i := min(max(int(y), 0), n-1)
	return edges[i] + (y-float64(i))*(edges[i+1]-edges[i])
}

// hzLabel formats a frequency: "0", "500", "1.5k", "12k".
func hzLabel(hz float64) string {
	if hz >= 1000 {
		return strconv.FormatFloat(hz/1000, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(hz, 'g', 3, 64)
}

// roundNice rounds v to 2 significant digits.
func roundNice(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Round(v/p) * p
}

// hzTicker labels the bin axis in Hz: about 7 ticks evenly spaced on the
// axis, each moved to a round frequency.
func hzTicker(edges []float64) gplot.Ticker {
	return gplot.TickerFunc(func(lo, hi float64) []gplot.Tick {
		const n = 7
		var ticks []gplot.Tick
		last := math.Inf(-1)
		for i := 0; i <= n; i++ {
			y := lo + (hi-lo)*float64(i)/n
			hz := roundNice(binToHz(edges, y))
			yb := hzToBin(edges, hz)
			if yb < lo || yb > hi || yb-last < (hi-lo)/(3*n) {
				continue
			}
			ticks = append(ticks, gplot.Tick{Value: yb, Label: hzLabel(hz)})
			last = yb
		}
		return ticks
	})
}

// Spectrogram draws a spectrogram as a viridis heat map (time across,
// frequency up, in equal-height bins labelled in Hz) with a colour bar, and
// outlines each [Mark] in red with a light red fill. Default size 1000 ×
// 500 px, title "Spectrogram".
func Spectrogram(d SpectrogramData, opt Options) (*Figure, error) {
	w, h, err := opt.size(1000, 500)
	if err != nil {
		return nil, err
	}
	if d.Frames <= 0 || d.Bins <= 0 || len(d.Values) != d.Frames*d.Bins {
		return nil, fmt.Errorf("%w: %d values for %d frames × %d bins", ErrData, len(d.Values), d.Frames, d.Bins)
	}
	if d.HopNs <= 0 {
		return nil, fmt.Errorf("%w: frame hop %d ns", ErrData, d.HopNs)
	}
	edges := d.BinEdgesHz
	if edges == nil {
		if !(d.MaxHz > 0) {
			return nil, fmt.Errorf("%w: need BinEdgesHz or MaxHz > 0", ErrData)
		}
		edges = LinearEdges(d.Bins, d.MaxHz)
	}
	if len(edges) != d.Bins+1 {
		return nil, fmt.Errorf("%w: %d bin edges for %d bins", ErrData, len(edges), d.Bins)
	}
	for i := 1; i < len(edges); i++ {
		if !(edges[i] > edges[i-1]) {
			return nil, fmt.Errorf("%w: bin edges not ascending at %d", ErrData, i)
		}
	}
	zmin, zmax := d.ZMin, d.ZMax
	if zmin == 0 && zmax == 0 {
		zmin, zmax = math.Inf(1), math.Inf(-1)
		for _, v := range d.Values {
			f := float64(v)
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				zmin, zmax = math.Min(zmin, f), math.Max(zmax, f)
			}
		}
		if zmin > zmax {
			return nil, fmt.Errorf("%w: no finite value", ErrData)
		}
	}
	if !(zmax > zmin) {
		zmax = zmin + 1
	}
	dur := float64(d.Frames) * float64(d.HopNs) / 1e9
	p := newPlot(opt.title("Spectrogram"), "time (s)", "frequency (Hz)")
	p.Add(&raster{Values: d.Values, Frames: d.Frames, Bins: d.Bins, X0: 0, X1: dur, ZMin: zmin, ZMax: zmax})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, dur, 0, float64(d.Bins)
	p.Y.Tick.Marker = hzTicker(edges)
	p.X.Padding, p.Y.Padding = 0, 0
	if len(d.Marks) > 0 {
		r := &rects{Style: line(colMark, 2, false), Fill: colMarkFill, Text: textStyle(9, color.White)}
		for _, m := range d.Marks {
			r.X0 = append(r.X0, float64(m.StartNs-d.StartNs)/1e9)
			r.X1 = append(r.X1, float64(m.EndNs-d.StartNs)/1e9)
			r.Y0 = append(r.Y0, hzToBin(edges, m.LoHz))
			r.Y1 = append(r.Y1, hzToBin(edges, m.HiHz))
			r.Labels = append(r.Labels, m.Label)
		}
		p.Add(r)
		p.Legend.Add("anomalous patch", r)
		p.Legend.Top = true
		p.Legend.YOffs = vg.Points(22) // above the data area, beside the title
		p.Legend.TextStyle.Color = colMark
	}

	// Colour bar: a thin plot on the right, aligned with the data area.
	cb := gplot.New()
	cb.Add(&plotter.ColorBar{ColorMap: NewViridisMap(zmin, zmax), Vertical: true})
	cb.HideX()
	cb.Y.Label.Text = d.ZLabel
	cb.Y.Label.TextStyle.Font.Size = vg.Points(10)
	cb.Y.Tick.Label.Font.Size = vg.Points(9)
	cb.Y.Tick.Marker = gplot.TickerFunc(func(lo, hi float64) []gplot.Tick { return linearTicks(lo, hi, 5) })
	cb.Y.Padding = 0
	cb.X.Padding = 0

	const cbWidth = 70 // points
	area := func(c draw.Canvas) draw.Canvas { return draw.Crop(c, 0, -vg.Points(cbWidth+10), 0, 0) }
	return &Figure{width: w, height: h, main: p, area: area, draw: func(c draw.Canvas) {
		main := area(c)
		p.Draw(main)
		da := p.DataCanvas(main)
		bar := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: c.Max.X - vg.Points(cbWidth), Y: da.Min.Y},
			Max: vg.Point{X: c.Max.X - vg.Points(8), Y: da.Max.Y},
		}}
		cb.Draw(bar)
	}}, nil
}
