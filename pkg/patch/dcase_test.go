package patch_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/stft"
)

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/stft", name))
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestDCASEVectors: full-band patches of 5 frames × 128 log-mel bands, hop 1,
// cut from the streaming STFT, reproduce the 640-value vectors of the DCASE
// 2020 baseline's `features` (testdata/gen/stft_golden.py, copied verbatim
// from ../shared/bench/dcase_ae.py) on the golden 16 kHz signal, value by
// value within 1e-4*max(|want|, 1) dB (the reference runs in float32).
func TestDCASEVectors(t *testing.T) {
	var m struct {
		DCASE struct {
			Signal  string  `json:"signal"`
			Rate    float64 `json:"rate"`
			File    string  `json:"file"`
			Vectors int     `json:"vectors"`
			Dim     int     `json:"dim"`
		} `json:"dcase"`
	}
	b, err := os.ReadFile("../../testdata/stft/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	x := readF32(t, m.DCASE.Signal+".f32")
	want := readF32(t, m.DCASE.File)
	s, err := stft.New(m.DCASE.Rate, stft.Config{NFFT: 1024, Hop: 512, Window: stft.Hann, Center: true,
		Spectrum: stft.Power, Mels: 128, MelScale: stft.Slaney, MelNorm: stft.SlaneyNorm, Log: stft.DB, Eps: 0x1p-23})
	if err != nil {
		t.Fatal(err)
	}
	l := patch.Layout{Rate: m.DCASE.Rate, Hop: 512}
	for i := range s.Bins() {
		lo, hi := s.BinHz(i)
		l.LowHz, l.HighHz = append(l.LowHz, lo), append(l.HighHz, hi)
	}
	c, err := patch.NewCutter(patch.Config{Frames: 5, Hop: 1}, l, "fan", "mic0", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []*patch.Patch
	emit := func(p *patch.Patch) { got = append(got, p.Clone()) }
	push := func(_ int64, f []float32) { c.Push(f, emit) }
	s.Write(x, push)
	s.Flush(push)
	if len(got) != m.DCASE.Vectors {
		t.Fatalf("%d patches, want %d vectors", len(got), m.DCASE.Vectors)
	}
	var worst float64
	for i, p := range got {
		if len(p.Values) != m.DCASE.Dim || p.Band != 0 || p.Frame != int64(i) {
			t.Fatalf("patch %d: %d values, band %d, frame %d", i, len(p.Values), p.Band, p.Frame)
		}
		for j, v := range p.Values {
			w := float64(want[i*m.DCASE.Dim+j])
			d := math.Abs(float64(v)-w) / max(math.Abs(w), 1)
			worst = max(worst, d)
			if d > 1e-4 {
				t.Fatalf("vector %d value %d: got %g, want %g", i, j, v, w)
			}
		}
	}
	t.Logf("largest relative difference %.3g over %d vectors", worst, len(got))
	if p := got[3]; p.StartNs != 3*32_000_000 || p.DurationNs != 5*32_000_000 || p.LowHz != 0 || math.Abs(p.HighHz-8000) > 1e-9 {
		t.Errorf("tag %+v", p.Tag)
	}
}
