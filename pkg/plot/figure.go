package plot

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution figures are rendered at: one pixel is 1/96 inch.
const DPI = 96

// ErrData is wrapped by the errors of the figure functions for unusable
// input (mismatched lengths, no points, NaN where a number is needed).
var ErrData = errors.New("plot: bad data")

// Options common to every figure. The zero value gives the figure's
// defaults.
type Options struct {
	// Title is drawn above the plot; "" uses the figure's default title.
	Title string
	// Width and Height are the image size in pixels; 0 uses the figure's
	// default (listed with each function). Each must be ≥ 200 if given.
	Width, Height int
}

func (o Options) size(w, h int) (int, int, error) {
	if o.Width != 0 {
		w = o.Width
	}
	if o.Height != 0 {
		h = o.Height
	}
	if w < 200 || h < 200 || w > 10000 || h > 10000 {
		return 0, 0, fmt.Errorf("%w: size %d×%d px outside [200, 10000]", ErrData, w, h)
	}
	return w, h, nil
}

func (o Options) title(def string) string {
	if o.Title != "" {
		return o.Title
	}
	return def
}

// Figure is a figure ready to render: width × height pixels drawn by a
// function of a canvas.
type Figure struct {
	width, height int
	draw          func(c draw.Canvas)
	// main is the figure's principal plot and area where it goes on the
	// whole canvas (nil: all of it); tests use them to map data to pixels.
	main *gplot.Plot
	area func(c draw.Canvas) draw.Canvas
}

// toPixels returns the map from data coordinates of the main plot to
// pixel coordinates (x right, y down) of the rendered image.
func (f *Figure) toPixels() func(x, y float64) (px, py float64) {
	w := vg.Length(f.width) * vg.Inch / DPI
	h := vg.Length(f.height) * vg.Inch / DPI
	c := draw.New(vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI)))
	if f.area != nil {
		c = f.area(c)
	}
	da := f.main.DataCanvas(c)
	trX, trY := f.main.Transforms(&da)
	return func(x, y float64) (float64, float64) {
		return trX(x).Dots(DPI), float64(f.height) - trY(y).Dots(DPI)
	}
}

// Size returns the image size in pixels.
func (f *Figure) Size() (width, height int) { return f.width, f.height }

// Image renders the figure to a new RGBA image of its size.
func (f *Figure) Image() *image.RGBA {
	w := vg.Length(f.width) * vg.Inch / DPI
	h := vg.Length(f.height) * vg.Inch / DPI
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	f.draw(draw.New(c))
	img := c.Image()
	if rgba, ok := img.(*image.RGBA); ok {
		return rgba
	}
	out := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

// WritePNG renders the figure and writes it to w as PNG.
func (f *Figure) WritePNG(w io.Writer) error {
	if err := png.Encode(w, f.Image()); err != nil {
		return fmt.Errorf("plot: encoding PNG: %w", err)
	}
	return nil
}

// SavePNG renders the figure to the file at path (created or truncated).
func (f *Figure) SavePNG(path string) (err error) {
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	defer func() {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("plot: %w", cerr)
		}
	}()
	bw := bufio.NewWriter(file)
	if err := f.WritePNG(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	return nil
}
