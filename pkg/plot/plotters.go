package plot

import (
	"image"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The figure colours.
var (
	colNormal    = color.RGBA{0x1f, 0x77, 0xb4, 0xff}  // blue
	colAnomaly   = color.RGBA{0xd6, 0x27, 0x28, 0xff}  // red
	colThreshold = color.RGBA{0xe6, 0x55, 0x0d, 0xff}  // orange-red
	colAlarm     = color.NRGBA{0xd6, 0x27, 0x28, 0x40} // translucent red
	colFault     = color.RGBA{0x33, 0x33, 0x33, 0xff}
	colChance    = color.RGBA{0x99, 0x99, 0x99, 0xff}
	colShade     = color.NRGBA{0x80, 0x80, 0x80, 0x22}
	colMark      = color.RGBA{0xff, 0x20, 0x20, 0xff}
	colMarkFill  = color.NRGBA{0xff, 0x20, 0x20, 0x30}
	curveColours = []color.RGBA{
		{0x1f, 0x77, 0xb4, 0xff}, {0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
		{0x94, 0x67, 0xbd, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	}
)

// newPlot returns a plot with the house style: title, axis labels,
// light grid.
func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(10)
		a.Tick.Marker = niceTicker
	}
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.ThumbnailWidth = vg.Points(20)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xe4}
	g.Horizontal.Color = color.Gray{0xe4}
	p.Add(g)
	return p
}

func line(c color.Color, width float64, dashed bool) draw.LineStyle {
	s := draw.LineStyle{Color: c, Width: vg.Points(width)}
	if dashed {
		s.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	}
	return s
}

// spans shades vertical bands [X0[i], X1[i]] over the full height.
type spans struct {
	X0, X1 []float64
	Color  color.Color
}

func (s *spans) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for i := range s.X0 {
		x0, x1 := trX(s.X0[i]), trX(s.X1[i])
		pts := c.ClipPolygonX([]vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		c.FillPolygon(s.Color, pts)
	}
}

func (s *spans) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i := range s.X0 {
		xmin, xmax = math.Min(xmin, s.X0[i]), math.Max(xmax, s.X1[i])
	}
	return xmin, xmax, math.Inf(1), math.Inf(-1)
}

func (s *spans) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.Color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// vlines draws vertical lines at X over the full height.
type vlines struct {
	X     []float64
	Style draw.LineStyle
}

func (v *vlines) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, x := range v.X {
		px := trX(x)
		if px < c.Min.X-1e-9 || px > c.Max.X+1e-9 {
			continue
		}
		c.StrokeLine2(v.Style, px, c.Min.Y, px, c.Max.Y)
	}
}

func (v *vlines) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, x := range v.X {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
	}
	return xmin, xmax, math.Inf(1), math.Inf(-1)
}

func (v *vlines) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(v.Style, x, c.Min.Y, x, c.Max.Y)
}

// hline draws a horizontal line at Y over the full width.
type hline struct {
	Y     float64
	Style draw.LineStyle
}

func (h *hline) Plot(c draw.Canvas, p *gplot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.Y)
	c.StrokeLine2(h.Style, c.Min.X, y, c.Max.X, y)
}

func (h *hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.Y, h.Y
}

func (h *hline) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(h.Style, c.Min.X, y, c.Max.X, y)
}

// rects outlines rectangles given in data coordinates, with an optional
// fill and a label above each.
type rects struct {
	X0, X1, Y0, Y1 []float64
	Labels         []string
	Style          draw.LineStyle
	Fill           color.Color
	Text           draw.TextStyle
}

func (r *rects) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range r.X0 {
		x0, x1, y0, y1 := trX(r.X0[i]), trX(r.X1[i]), trY(r.Y0[i]), trY(r.Y1[i])
		box := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		if r.Fill != nil {
			c.FillPolygon(r.Fill, c.ClipPolygonXY(box))
		}
		c.StrokeLines(r.Style, c.ClipLinesXY(append(box, box[0]))...)
		if i < len(r.Labels) && r.Labels[i] != "" {
			c.FillText(r.Text, vg.Point{X: x0, Y: y1 + vg.Points(2)}, r.Labels[i])
		}
	}
}

func (r *rects) Thumbnail(c *draw.Canvas) {
	box := []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}}
	if r.Fill != nil {
		c.FillPolygon(r.Fill, box)
	}
	c.StrokeLines(r.Style, append(box, box[0]))
}

// raster draws a frames × bins grid of values with viridis at the
// device's resolution (nearest cell per pixel, no smoothing). Cell (t, f)
// covers x ∈ [X0 + t·dx, X0 + (t+1)·dx), y ∈ [f, f+1).
type raster struct {
	Values       []float32 // frame-major
	Frames, Bins int
	X0, X1       float64
	ZMin, ZMax   float64
}

func (r *raster) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	xmin, xmax := trX(r.X0), trX(r.X1)
	ymin, ymax := trY(0), trY(float64(r.Bins))
	dpi := float64(DPI)
	if d, ok := c.Canvas.(interface{ DPI() float64 }); ok {
		dpi = d.DPI()
	}
	w := int(math.Round((xmax - xmin).Dots(dpi)))
	h := int(math.Round((ymax - ymin).Dots(dpi)))
	if w <= 0 || h <= 0 {
		return
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	span := r.ZMax - r.ZMin
	for py := range h {
		f := r.Bins - 1 - int((float64(py)+0.5)*float64(r.Bins)/float64(h))
		for px := range w {
			t := int((float64(px) + 0.5) * float64(r.Frames) / float64(w))
			v := float64(r.Values[t*r.Bins+f])
			img.SetRGBA(px, py, Viridis((v-r.ZMin)/span))
		}
	}
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: xmin, Y: ymin}, Max: vg.Point{X: xmax, Y: ymax}}, img)
}

func (r *raster) DataRange() (xmin, xmax, ymin, ymax float64) {
	return r.X0, r.X1, 0, float64(r.Bins)
}

// textStyle returns a text style of the given size in the default font.
func textStyle(size float64, col color.Color) draw.TextStyle {
	return draw.TextStyle{
		Color:   col,
		Font:    font.From(gplot.DefaultFont, vg.Points(size)),
		Handler: gplot.DefaultTextHandler,
	}
}
