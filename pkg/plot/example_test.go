package plot_test

import (
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/mhmstream/mhm/pkg/plot"
)

func ExampleTimeline() {
	// Ten snapshots, 10 s apart; the last four above the threshold, the
	// persistent alarm (3 in a row) active from the third of them.
	d := plot.TimelineData{
		Scores:    []float64{1, 1.1, 0.9, 1.2, 1, 1.1, 2.5, 3, 3.6, 4.2},
		Threshold: 2,
		Alarm:     []bool{false, false, false, false, false, false, false, false, true, true},
	}
	for i := range d.Scores {
		d.TimesNs = append(d.TimesNs, int64(i)*10e9)
	}
	fig, err := plot.Timeline(d, plot.Options{Title: "Bearing 2_1"})
	if err != nil {
		panic(err)
	}
	path := filepath.Join(os.TempDir(), "mhm-example-timeline.png")
	if err := fig.SavePNG(path); err != nil {
		panic(err)
	}
	defer os.Remove(path)
	f, _ := os.Open(path)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	fmt.Println(cfg.Width, cfg.Height, err)
	// Output: 1000 450 <nil>
}

func ExampleSpectrogram() {
	// 4 frames × 3 linear bins over 0–3 kHz, one patch marked: frames 1–2
	// (hop 10 ms), 1–2 kHz.
	d := plot.SpectrogramData{
		Values: []float32{0, 0, 0, 0, 5, 0, 0, 6, 0, 0, 0, 0},
		Frames: 4, Bins: 3, HopNs: 10e6, MaxHz: 3000,
		ZLabel: "dB",
		Marks:  []plot.Mark{{StartNs: 10e6, EndNs: 30e6, LoHz: 1000, HiHz: 2000, Label: "6.0"}},
	}
	fig, err := plot.Spectrogram(d, plot.Options{Width: 600, Height: 300})
	if err != nil {
		panic(err)
	}
	w, h := fig.Size()
	fmt.Println(w, h, fig.WritePNG(io.Discard))
	// Output: 600 300 <nil>
}
