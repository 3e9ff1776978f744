package plot

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// decode renders f through WritePNG and decodes it, checking the size.
func decode(t *testing.T, f *Figure, w, h int) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := f.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG signature")
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decoding the PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("image %d×%d, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}

func rgb(c color.Color) (r, g, b int) {
	R, G, B, _ := c.RGBA()
	return int(R >> 8), int(G >> 8), int(B >> 8)
}

// close reports whether c is within tol (per channel, 0–255) of want.
func closeTo(c color.Color, want color.Color, tol int) bool {
	r, g, b := rgb(c)
	R, G, B := rgb(want)
	return abs(r-R) <= tol && abs(g-G) <= tol && abs(b-B) <= tol
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// bbox returns the bounding box of the pixels matching pred and their count.
func bbox(img image.Image, pred func(color.Color) bool) (image.Rectangle, int) {
	b := img.Bounds()
	r := image.Rectangle{Min: b.Max, Max: b.Min}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if pred(img.At(x, y)) {
				n++
				r.Min.X, r.Min.Y = min(r.Min.X, x), min(r.Min.Y, y)
				r.Max.X, r.Max.Y = max(r.Max.X, x+1), max(r.Max.Y, y+1)
			}
		}
	}
	return r, n
}

// sub returns the part of img inside r (same coordinates).
func sub(img image.Image, r image.Rectangle) image.Image {
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
}

func near(got, want, tol int) bool { return abs(got-want) <= tol }

func TestROC(t *testing.T) {
	// The "ties" example of pkg/eval: AUC 9.5/12, pAUC(0.1) 0.4.
	c := ROCCurve{Label: "dense-ae", FPR: []float64{0, 0, 0.25, 0.75, 1}, TPR: []float64{0, 1.0 / 3, 2.0 / 3, 1, 1},
		AUC: 9.5 / 12, PAUC: 0.4, MaxFPR: 0.1}
	f, err := ROC([]ROCCurve{c}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, f, 640, 600)
	save(t, f, "roc.png")
	curve, nCurve := bbox(img, func(c color.Color) bool { return closeTo(c, curveColours[0], 10) })
	_, nChance := bbox(img, func(c color.Color) bool { return closeTo(c, colChance, 6) })
	if nCurve < 500 || nChance < 200 {
		t.Errorf("curve pixels %d, chance pixels %d", nCurve, nChance)
	}
	// The curve spans the whole plot square; the legend thumbnail adds a bit.
	if curve.Dx() < 400 || curve.Dy() < 400 {
		t.Errorf("curve extent %v too small", curve)
	}
	two, err := ROC([]ROCCurve{c, {Label: "vae", FPR: []float64{0, 0.5, 1}, TPR: []float64{0, 0.9, 1}, AUC: math.NaN()}}, Options{Width: 400, Height: 300, Title: "two"})
	if err != nil {
		t.Fatal(err)
	}
	img = decode(t, two, 400, 300)
	if _, n := bbox(img, func(c color.Color) bool { return closeTo(c, curveColours[1], 10) }); n < 100 {
		t.Errorf("second curve: %d pixels", n)
	}
	for _, bad := range [][]ROCCurve{nil, {{FPR: []float64{0}, TPR: []float64{0}}}, {{FPR: []float64{0, 2}, TPR: []float64{0, 1}}}} {
		if _, err := ROC(bad, Options{}); !errors.Is(err, ErrData) {
			t.Errorf("%v: err %v", bad, err)
		}
	}
	if _, err := ROC([]ROCCurve{c}, Options{Width: 50}); !errors.Is(err, ErrData) {
		t.Errorf("tiny size accepted")
	}
}

func TestHistogram(t *testing.T) {
	normal := make([]float64, 300)
	anomalous := make([]float64, 20)
	for i := range normal {
		normal[i] = 1 + 0.2*math.Sin(float64(i)*0.37) + 0.1*float64(i%7)/7
	}
	for i := range anomalous {
		anomalous[i] = 2 + 0.3*float64(i)/20
	}
	f, err := Histogram(HistogramData{Normal: normal, Anomalous: anomalous, Threshold: 1.6}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, f, 800, 500)
	save(t, f, "hist.png")
	// The threshold is a vertical line: its pixels form a narrow tall
	// column (plus the short legend sample, to the right at the top).
	col := map[int]int{}
	bbox(img, func(c color.Color) bool { return closeTo(c, colThreshold, 12) })
	b := img.Bounds()
	for x := b.Min.X; x < b.Max.X; x++ {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if closeTo(img.At(x, y), colThreshold, 12) {
				col[x]++
			}
		}
	}
	var tallest, tallX int
	for x, n := range col {
		if n > tallest {
			tallest, tallX = n, x
		}
	}
	if tallest < 150 {
		t.Errorf("threshold line: tallest column %d px", tallest)
	}
	// Normal bars (blue, translucent over white) lie left of the line,
	// anomalous (red) to the right.
	nb, nn := bbox(img, func(c color.Color) bool { r, g, b := rgb(c); return b > r+40 && b > g+20 && b < 250 })
	ab, na := bbox(img, func(c color.Color) bool { r, g, b := rgb(c); return r > g+60 && r > b+60 && g > 80 })
	if nn < 1000 || na < 1000 {
		t.Fatalf("bar pixels: normal %d, anomalous %d", nn, na)
	}
	if !(nb.Min.X < tallX && ab.Max.X > tallX) {
		t.Errorf("normal bars %v, anomalous %v, threshold at x=%d", nb, ab, tallX)
	}
	// Log axis and counts.
	f, err = Histogram(HistogramData{Normal: normal, Anomalous: anomalous, Threshold: 1.6, LogX: true, Counts: true, Bins: 25}, Options{Width: 600, Height: 400})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, f, 600, 400)
	save(t, f, "hist_log.png")
	if _, err := Histogram(HistogramData{Normal: []float64{0, 1}, LogX: true}, Options{}); !errors.Is(err, ErrData) {
		t.Errorf("log axis with 0 accepted: %v", err)
	}
	if _, err := Histogram(HistogramData{Threshold: 1}, Options{}); !errors.Is(err, ErrData) {
		t.Errorf("empty accepted: %v", err)
	}
}

func TestTimeline(t *testing.T) {
	const n = 100
	d := TimelineData{Threshold: 2, Alarm: make([]bool, n), TimesNs: make([]int64, n), Scores: make([]float64, n)}
	for i := range n {
		d.TimesNs[i] = 1_700_000_000e9 + int64(i)*10e9 // a snapshot every 10 s: 990 s → minutes
		d.Scores[i] = 1 + 0.3*math.Sin(float64(i))
		if i >= 55 {
			d.Scores[i] = 1 + float64(i-50)*0.08
		}
		d.Alarm[i] = i >= 60 && i < 80
	}
	d.FaultsNs = []int64{d.TimesNs[50]}
	f, err := Timeline(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, f, 1000, 450)
	save(t, f, "timeline.png")
	toPx := f.toPixels()
	at := func(i float64) int { x, _ := toPx(i/6, 0); return int(math.Round(x)) } // point i is at i/6 min
	_, ntl := bbox(img, func(c color.Color) bool { return closeTo(c, colThreshold, 12) })
	if ntl < 300 {
		t.Fatalf("threshold line: %d pixels", ntl)
	}
	_, ythr := toPx(0, 2)
	if c := img.At(at(10), int(ythr)); !closeTo(c, colThreshold, 12) && !closeTo(img.At(at(10)+6, int(ythr)), colThreshold, 12) {
		t.Errorf("no threshold line at y=%v: %v", ythr, c)
	}
	// Alarm tint: translucent red over white.
	tint := color.RGBA{0xf5, 0xc9, 0xc9, 0xff}
	ab, na := bbox(img, func(c color.Color) bool { return closeTo(c, tint, 6) })
	if na < 2000 {
		t.Fatalf("alarm band: %d pixels", na)
	}
	// Look along the row of score 1.5, below the legend sample.
	_, yy := toPx(0, 1.5)
	y := int(yy)
	lo, hi := -1, -1
	for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
		if closeTo(img.At(x, y), tint, 6) {
			if lo < 0 {
				lo = x
			}
			hi = x
		}
	}
	if !near(lo, at(59.5), 2) || !near(hi, at(79.5), 2) {
		t.Errorf("alarm band x %d..%d (bbox %v), want %d..%d", lo, hi, ab, at(59.5), at(79.5))
	}
	// Fault start: a dark dashed vertical line at point 50.
	fcol := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for dx := -1; dx <= 1; dx++ {
			if closeTo(img.At(at(50)+dx, y), colFault, 20) {
				fcol++
				break
			}
		}
	}
	if fcol < 100 {
		t.Errorf("fault line at x=%d: %d dark pixels", at(50), fcol)
	}
	// Index axis, log scale, no alarms.
	f, err = Timeline(TimelineData{Scores: []float64{1, 2, 30, 400}, Threshold: 10, LogY: true}, Options{Width: 500, Height: 300})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, f, 500, 300)
	save(t, f, "timeline_log.png")
	for _, bad := range []TimelineData{
		{},
		{Scores: []float64{1, 2}, TimesNs: []int64{1}},
		{Scores: []float64{1, 2}, Alarm: []bool{true}},
		{Scores: []float64{1, 2}, TimesNs: []int64{2, 1}},
		{Scores: []float64{0, 2}, LogY: true},
	} {
		if _, err := Timeline(bad, Options{}); !errors.Is(err, ErrData) {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
}

func TestSpectrogramMarks(t *testing.T) {
	// A flat spectrogram (every cell viridis(0)), 10 s × 0–8 kHz, with one
	// mark over 2–4 s and 1–3 kHz.
	const frames, bins = 100, 64
	d := SpectrogramData{
		Values: make([]float32, frames*bins), Frames: frames, Bins: bins,
		StartNs: 5e9, HopNs: 1e8, MaxHz: 8000, ZMin: 0, ZMax: 1,
		Marks: []Mark{{StartNs: 7e9, EndNs: 9e9, LoHz: 1000, HiHz: 3000}},
	}
	f, err := Spectrogram(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, f, 1000, 500)
	base := Viridis(0)
	// The heat map is the region of the base colour left of the colour bar.
	area, nb := bbox(sub(img, image.Rect(0, 0, 1000-110, 500)), func(c color.Color) bool { return closeTo(c, base, 2) })
	if nb < 100_000 {
		t.Fatalf("heat map: %d pixels", nb)
	}
	red, nr := bbox(img, func(c color.Color) bool { return closeTo(c, colMark, 30) })
	if nr < 200 {
		t.Fatalf("mark outline: %d red pixels", nr)
	}
	toPx := f.toPixels() // data: x in s since StartNs, y in bins (64 over 8 kHz)
	px := func(sec float64) int { x, _ := toPx(sec, 0); return int(math.Round(x)) }
	py := func(hz float64) int { _, y := toPx(0, hz/8000*bins); return int(math.Round(y)) }
	if !near(area.Min.X, px(0), 1) || !near(area.Max.X, px(10), 1) || !near(area.Min.Y, py(8000), 1) || !near(area.Max.Y, py(0), 1) {
		t.Errorf("heat map at %v, want x %d..%d y %d..%d", area, px(0), px(10), py(8000), py(0))
	}
	// The legend sample is red too but lies above the heat map; restrict to it.
	red, _ = bbox(sub(img, area), func(c color.Color) bool { return closeTo(c, colMark, 30) })
	const tol = 3 // pixels: a 2-pt (2.7 px) line is centred on the edge
	if !near(red.Min.X, px(2), tol) || !near(red.Max.X, px(4), tol) || !near(red.Min.Y, py(3000), tol) || !near(red.Max.Y, py(1000), tol) {
		t.Errorf("mark at %v, want x %d..%d y %d..%d (heat map %v)", red, px(2), px(4), py(3000), py(1000), area)
	}
	// Inside the mark the fill tints the map towards red; outside it is untouched.
	in := img.At(px(3), py(2000))
	out := img.At(px(7), py(6000))
	ri, gi, bi := rgb(in)
	rb, _, _ := rgb(base)
	if closeTo(in, base, 2) || ri <= rb+20 || gi > 30 || bi > 0x54 {
		t.Errorf("inside the mark: %v (base %v)", in, base)
	}
	if !closeTo(out, base, 1) {
		t.Errorf("outside the mark: %v, want %v", out, base)
	}
	// Without marks there is no red at all.
	d.Marks = nil
	f, err = Spectrogram(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, n := bbox(decode(t, f, 1000, 500), func(c color.Color) bool { return closeTo(c, colMark, 30) }); n != 0 {
		t.Errorf("unmarked spectrogram has %d red pixels", n)
	}
}

func TestSpectrogramMel(t *testing.T) {
	// A mel-like spectrogram: 128 bins with centres spaced evenly in mel,
	// 313 frames of 32 ms (a 10 s DCASE clip), one marked patch.
	const frames, bins = 313, 128
	mel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	imel := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	centres := make([]float64, bins)
	for i := range centres {
		centres[i] = imel(mel(8000) * (float64(i) + 0.5) / bins)
	}
	edges := EdgesFromCenters(centres)
	d := SpectrogramData{
		Values: demoSpectrogram(frames, bins, 150, 200), Frames: frames, Bins: bins,
		HopNs: 32e6, BinEdgesHz: edges, ZLabel: "log-mel energy (dB)",
		Marks: []Mark{{StartNs: 150 * 32e6, EndNs: 200 * 32e6, LoHz: binToHz(edges, 64), HiHz: binToHz(edges, 80), Label: "score 3.2"}},
	}
	f, err := Spectrogram(d, Options{Title: "machine id_00: anomalous patches"})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, f, 1000, 500)
	save(t, f, "spectrogram.png")
	if _, n := bbox(img, func(c color.Color) bool { return closeTo(c, colMark, 30) }); n < 200 {
		t.Errorf("mark: %d red pixels", n)
	}
	// hzToBin inverts binToHz, and the edges are monotone.
	for _, y := range []float64{0, 0.5, 17.25, 64, 127.9, 128} {
		if got := hzToBin(edges, binToHz(edges, y)); math.Abs(got-y) > 1e-9 {
			t.Errorf("hzToBin(binToHz(%v)) = %v", y, got)
		}
	}
	for _, bad := range []SpectrogramData{
		{Values: make([]float32, 10), Frames: 2, Bins: 4, HopNs: 1, MaxHz: 1},
		{Values: make([]float32, 8), Frames: 2, Bins: 4, HopNs: 0, MaxHz: 1},
		{Values: make([]float32, 8), Frames: 2, Bins: 4, HopNs: 1},
		{Values: make([]float32, 8), Frames: 2, Bins: 4, HopNs: 1, BinEdgesHz: []float64{0, 1, 1, 2, 3}},
	} {
		if _, err := Spectrogram(bad, Options{}); !errors.Is(err, ErrData) {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
}

func TestSavePNG(t *testing.T) {
	f, err := Timeline(TimelineData{Scores: []float64{1, 2, 3}, Threshold: math.NaN()}, Options{Width: 300, Height: 200})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.png")
	if err := f.SavePNG(path); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cfg, err := png.DecodeConfig(file)
	if err != nil || cfg.Width != 300 || cfg.Height != 200 {
		t.Errorf("saved PNG: %+v %v", cfg, err)
	}
	if err := f.SavePNG(filepath.Join(t.TempDir(), "no", "such", "dir.png")); err == nil {
		t.Errorf("saving into a missing folder succeeded")
	}
}

func TestViridis(t *testing.T) {
	// Endpoints and midpoint of matplotlib's viridis: #440154, #21918c, #fde725.
	for _, c := range []struct {
		v    float64
		want color.RGBA
	}{{0, color.RGBA{0x44, 0x01, 0x54, 255}}, {0.5, color.RGBA{0x21, 0x90, 0x8c, 255}}, {1, color.RGBA{0xfd, 0xe7, 0x25, 255}}, {math.NaN(), color.RGBA{0x44, 0x01, 0x54, 255}}, {7, color.RGBA{0xfd, 0xe7, 0x25, 255}}} {
		if got := Viridis(c.v); !closeTo(got, c.want, 1) {
			t.Errorf("Viridis(%v) = %v, want %v", c.v, got, c.want)
		}
	}
	m := NewViridisMap(-80, 0)
	if _, err := m.At(5); err == nil {
		t.Errorf("out of range accepted")
	}
	if c, err := m.At(-40); err != nil || !closeTo(c, Viridis(0.5), 0) {
		t.Errorf("At(-40) = %v %v", c, err)
	}
	if n := len(m.Palette(5).Colors()); n != 5 {
		t.Errorf("palette of %d", n)
	}
}

// BenchmarkSpectrogramPNG renders and encodes a 10 s, 128-mel spectrogram
// with one mark at the default 1000 × 500 px (what a report page costs).
func BenchmarkSpectrogramPNG(b *testing.B) {
	const frames, bins = 313, 128
	d := SpectrogramData{Values: demoSpectrogram(frames, bins, 150, 200), Frames: frames, Bins: bins,
		HopNs: 32e6, MaxHz: 8000, Marks: []Mark{{StartNs: 150 * 32e6, EndNs: 200 * 32e6, LoHz: 3000, HiHz: 4000}}}
	for b.Loop() {
		f, err := Spectrogram(d, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.WritePNG(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
