package stft

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/stft with testdata/gen/stft_golden.py (needs /usr/bin/python3 with numpy and scipy)")

const goldenDir = "../../testdata/stft"

type goldenCase struct {
	Name   string  `json:"name"`
	Signal string  `json:"signal"`
	Rate   float64 `json:"rate"`
	Config Config  `json:"config"`
	Frames int     `json:"frames"`
	Bins   int     `json:"bins"`
	File   string  `json:"file"`
}

type goldenManifest struct {
	Signals map[string]struct {
		File    string  `json:"file"`
		Rate    float64 `json:"rate"`
		Samples int     `json:"samples"`
	} `json:"signals"`
	Cases []goldenCase `json:"cases"`
	DCASE struct {
		Signal  string  `json:"signal"`
		Rate    float64 `json:"rate"`
		File    string  `json:"file"`
		Vectors int     `json:"vectors"`
		Dim     int     `json:"dim"`
		Frames  int     `json:"frames"`
		Mels    int     `json:"mels"`
	} `json:"dcase"`
}

func loadManifest(t testing.TB) goldenManifest {
	t.Helper()
	if *update {
		cmd := exec.Command("/usr/bin/python3", "../../testdata/gen/stft_golden.py", goldenDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("regenerating golden files: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(goldenDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m goldenManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readF32(t testing.TB, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes is not a whole number of float32", name, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// closeTo is the golden comparison: |got-want| <= 1e-4*max(|want|, 1) for log
// outputs, where values near 0 dB (or 0 nepers) are compared absolutely to
// 1e-4 because a relative error is meaningless there; and, for linear
// outputs, |got-want| <= 1e-4*|want| + 1e-12*peak, where peak is the largest
// value of the frame: both sides are float64 FFTs whose rounding errors are
// about 1e-16 of the frame's peak, so a bin more than 120 dB below the peak
// is compared absolutely.
func closeTo(got, want float32, log bool, peak float64) bool {
	g, w := float64(got), float64(want)
	if log {
		return math.Abs(g-w) <= 1e-4*max(math.Abs(w), 1)
	}
	return math.Abs(g-w) <= 1e-4*math.Abs(w)+1e-12*peak
}

func compareFrames(t *testing.T, got [][]float32, want []float32, bins int, log bool) {
	t.Helper()
	if len(got)*bins != len(want) {
		t.Fatalf("got %d frames of %d bins, want %d values (%d frames)", len(got), bins, len(want), len(want)/bins)
	}
	bad := 0
	var worst float64 // largest |got-want| / tolerance scale
	for i, row := range got {
		if len(row) != bins {
			t.Fatalf("frame %d has %d bins, want %d", i, len(row), bins)
		}
		ref := want[i*bins : (i+1)*bins]
		var peak float64
		for _, v := range ref {
			peak = max(peak, math.Abs(float64(v)))
		}
		for j, v := range row {
			d := math.Abs(float64(v - ref[j]))
			if log {
				d /= max(math.Abs(float64(ref[j])), 1)
			} else {
				d /= math.Abs(float64(ref[j])) + 1e-8*peak
			}
			worst = max(worst, d)
			if !closeTo(v, ref[j], log, peak) {
				if bad < 5 {
					t.Errorf("frame %d bin %d: got %.9g, want %.9g (rel %.3g)", i, j, v, ref[j], math.Abs(float64(v-ref[j]))/math.Abs(float64(ref[j])))
				}
				bad++
			}
		}
	}
	t.Logf("largest relative difference %.3g over %d values", worst, len(want))
	if bad > 0 {
		t.Errorf("%d of %d values outside tolerance", bad, len(want))
	}
}

// TestGolden compares the STFT with numpy.pad + scipy.signal.stft + a numpy
// port of librosa.filters.mel (testdata/gen/stft_golden.py) on every case of
// the manifest: each window, centred or not, power or magnitude, Slaney or HTK
// mels, fmin/fmax, dB, ln and none, an odd n_fft and a signal shorter than
// n_fft/2.
func TestGolden(t *testing.T) {
	m := loadManifest(t)
	if len(m.Cases) < 10 {
		t.Fatalf("manifest has %d cases, want >= 10", len(m.Cases))
	}
	for _, c := range m.Cases {
		t.Run(c.Name, func(t *testing.T) {
			sig := m.Signals[c.Signal]
			x := readF32(t, sig.File)
			want := readF32(t, c.File)
			s, err := New(c.Rate, c.Config)
			if err != nil {
				t.Fatal(err)
			}
			if s.Bins() != c.Bins {
				t.Fatalf("Bins() = %d, want %d", s.Bins(), c.Bins)
			}
			got, err := Spectrogram(c.Rate, c.Config, x)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.Frames {
				t.Fatalf("%d frames, want %d", len(got), c.Frames)
			}
			compareFrames(t, got, want, c.Bins, c.Config.WithDefaults().Log != NoLog)
		})
	}
}

// TestGoldenDCASE checks the DCASE 2020 preset's log-mel frames against the
// baseline's own `features` (copied verbatim from ../shared/bench/dcase_ae.py
// into the golden script): float32 scipy STFT of the reflect-padded signal,
// periodic Hann, power, librosa-equivalent Slaney mel matrix in float32 and
// 10*log10(x + float32 eps). The reference vectors stack frames t..t+4, so
// frame t is the first 128 values of vector t (and the last vector holds the
// last five frames).
func TestGoldenDCASE(t *testing.T) {
	m := loadManifest(t)
	d := m.DCASE
	x := readF32(t, m.Signals[d.Signal].File)
	v := readF32(t, d.File)
	if len(v) != d.Vectors*d.Dim || d.Dim != d.Frames*d.Mels {
		t.Fatalf("bad golden shape %+v for %d values", d, len(v))
	}
	nFrames := d.Vectors + d.Frames - 1
	want := make([]float32, 0, nFrames*d.Mels)
	for i := range d.Vectors {
		want = append(want, v[i*d.Dim:i*d.Dim+d.Mels]...)
	}
	want = append(want, v[(d.Vectors-1)*d.Dim+d.Mels:d.Vectors*d.Dim]...)
	cfg := Config{NFFT: 1024, Hop: 512, Window: Hann, Center: true, Spectrum: Power,
		Mels: 128, MelScale: Slaney, MelNorm: SlaneyNorm, Log: DB, Eps: 0x1p-23}
	s, err := New(d.Rate, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := collect(s, x, []int{len(x)})
	compareFrames(t, got, want, d.Mels, true)
}

// collect writes x in chunks of the given sizes (cycled), flushes, and
// returns copies of the frames, checking that indices run 0, 1, 2, ...
func collect(s *STFT, x []float32, sizes []int) [][]float32 {
	var out [][]float32
	emit := func(i int64, f []float32) {
		if i != int64(len(out)) {
			panic(fmt.Sprintf("frame index %d, want %d", i, len(out)))
		}
		out = append(out, append([]float32(nil), f...))
	}
	for i := 0; len(x) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(x))
		s.Write(x[:n], emit)
		x = x[n:]
	}
	s.Flush(emit)
	return out
}
