package feature

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/mhmstream/mhm/internal/cputime"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/stft"
)

// dcaseCanonical and dcaseHash pin DCASE2020()'s canonical encoding and its
// Hash; they change only if the preset or the encoding changes, which
// invalidates every stored model. The hash was confirmed with coreutils:
// printf '%s' "$dcaseCanonical" | sha256sum.
const (
	dcaseCanonical = `{"sample_rate":16000,"stft":{"n_fft":1024,"hop":512,"window":"hann","symmetric":false,"center":true,"spectrum":"power","mels":128,"mel_scale":"slaney","mel_norm":"slaney","fmin":0,"fmax":0,"log":"db","eps":1.1920928955078125e-7,"floor":0},"patch":{"frames":5,"bins":0,"hop":1,"bin_hop":0}}`
	dcaseHash      = "fab1693316d7276bc697ed42655b16f018d36dfe3e9cb9baf49f3c9591ed2600"
)

func TestHash(t *testing.T) {
	d := DCASE2020()
	if b, _ := json.Marshal(d.WithDefaults()); string(b) != dcaseCanonical {
		t.Errorf("canonical encoding\n%s\nwant\n%s", b, dcaseCanonical)
	}
	if got := d.Hash(); got != dcaseHash {
		t.Errorf("DCASE2020().Hash() = %s, want %s", got, dcaseHash)
	}
	// Defaults spelled out or left zero hash the same.
	implicit := d
	implicit.STFT.Window, implicit.STFT.Spectrum, implicit.STFT.MelScale, implicit.STFT.MelNorm = "", "", "", ""
	implicit.Patch.Hop = 0
	implicit.Patch.Bins, implicit.Patch.BinHop = 128, 7 // as wide as the spectrogram: full band
	if implicit.Hash() != d.Hash() {
		t.Error("implicit defaults hash differently")
	}
	// A JSON round trip keeps the hash.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Hash() != d.Hash() {
		t.Errorf("round trip changed the hash: %s", b)
	}
	// Every setting matters.
	for name, mod := range map[string]func(*Config){
		"rate":     func(c *Config) { c.SampleRate = 16001 },
		"n_fft":    func(c *Config) { c.STFT.NFFT = 2048 },
		"hop":      func(c *Config) { c.STFT.Hop = 256 },
		"window":   func(c *Config) { c.STFT.Window = stft.Hamming },
		"sym":      func(c *Config) { c.STFT.Symmetric = true },
		"center":   func(c *Config) { c.STFT.Center = false },
		"spectrum": func(c *Config) { c.STFT.Spectrum = stft.Magnitude },
		"mels":     func(c *Config) { c.STFT.Mels = 64 },
		"scale":    func(c *Config) { c.STFT.MelScale = stft.HTK },
		"norm":     func(c *Config) { c.STFT.MelNorm = stft.NoNorm },
		"fmin":     func(c *Config) { c.STFT.FMin = 1 },
		"fmax":     func(c *Config) { c.STFT.FMax = 7999 },
		"log":      func(c *Config) { c.STFT.Log = stft.Ln },
		"eps":      func(c *Config) { c.STFT.Eps = 1e-10 },
		"floor":    func(c *Config) { c.STFT.Floor = 1e-10 },
		"frames":   func(c *Config) { c.Patch.Frames = 4 },
		"bins":     func(c *Config) { c.Patch.Bins = 64 },
		"phop":     func(c *Config) { c.Patch.Hop = 2 },
	} {
		c := DCASE2020()
		mod(&c)
		if c.Hash() == d.Hash() {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
}

func TestPresets(t *testing.T) {
	d := DCASE2020()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Bins() != 128 || d.Bands() != 1 || d.Dim() != 640 {
		t.Errorf("DCASE2020: bins %d bands %d dim %d, want 128 1 640", d.Bins(), d.Bands(), d.Dim())
	}
	if lo, hi := d.BandHz(0); lo != 0 || math.Abs(hi-8000) > 1e-9 {
		t.Errorf("DCASE2020 band 0 = [%g, %g] Hz", lo, hi)
	}
	v := Vibration(25600)
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	if v.Bins() != 128 || v.Bands() != 8 || v.Dim() != 128 {
		t.Errorf("Vibration: bins %d bands %d dim %d, want 128 8 128", v.Bins(), v.Bands(), v.Dim())
	}
	for b, want := range map[int][2]float64{0: {50, 1650}, 1: {1650, 3250}, 7: {11250, 12800}} {
		if lo, hi := v.BandHz(b); lo != want[0] || hi != want[1] {
			t.Errorf("Vibration(25600) band %d = [%g, %g] Hz, want %v", b, lo, hi, want)
		}
	}
	if lo, hi := v.BinHz(0); lo != 50 || hi != 150 {
		t.Errorf("Vibration(25600) bin 0 = [%g, %g] Hz, want [50, 150]", lo, hi)
	}
	for _, sr := range []float64{12000, 48000, 51200, 20000} {
		c := Vibration(sr)
		if err := c.Validate(); err != nil || c.Bins() != 128 || c.Bands() != 8 {
			t.Errorf("Vibration(%g): %v, %d bins", sr, err, c.Bins())
		}
	}
}

func TestValidate(t *testing.T) {
	for name, c := range map[string]Config{
		"no rate":      {STFT: stft.Config{NFFT: 256}},
		"bad stft":     {SampleRate: 16000, STFT: stft.Config{NFFT: 256, Hop: 300}},
		"patch > bins": {SampleRate: 16000, STFT: stft.Config{NFFT: 256, Mels: 40}, Patch: patch.Config{Bins: 41}},
		"bad patch":    {SampleRate: 16000, STFT: stft.Config{NFFT: 256}, Patch: patch.Config{Frames: -1}},
	} {
		err := c.Validate()
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
		if _, err2 := NewExtractor(c, "m", "s", 0); !errors.Is(err2, ErrConfig) {
			t.Errorf("%s: NewExtractor: %v", name, err2)
		}
	}
	if err := (Config{SampleRate: 8000, STFT: stft.Config{NFFT: 256, Hop: 300}}).Validate(); !errors.Is(err, stft.ErrConfig) {
		t.Errorf("stft error not wrapped: %v", err)
	}
}

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile("../../testdata/stft/" + name)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestDCASEPreset: Patches(DCASE2020(), x) are the DCASE 2020 baseline's
// 640-value vectors for the golden 16 kHz signal (testdata/gen/stft_golden.py
// runs the baseline's own `features`), within 1e-4*max(|want|, 1) dB.
func TestDCASEPreset(t *testing.T) {
	x := readF32(t, "sig16k.f32")
	want := readF32(t, "dcase_features.f32")
	ps, err := Patches(DCASE2020(), x, "fan", "id_00", 1_600_000_000_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps)*640 != len(want) {
		t.Fatalf("%d patches, want %d", len(ps), len(want)/640)
	}
	for i, p := range ps {
		for j, v := range p.Values {
			w := float64(want[i*640+j])
			if math.Abs(float64(v)-w) > 1e-4*max(math.Abs(w), 1) {
				t.Fatalf("vector %d value %d: %g, want %g", i, j, v, w)
			}
		}
		if p.StartNs != 1_600_000_000_000_000_000+int64(i)*32_000_000 {
			t.Fatalf("patch %d starts at %d", i, p.StartNs)
		}
	}
}

func noise(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	return x
}

// TestExtractorChunking writes signals in random chunk sizes and requires the
// same patches, tags and values, bit for bit, as the offline Patches: nothing
// lost or repeated at chunk boundaries. The frame hook sees every frame once.
func TestExtractorChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, cfg := range []Config{DCASE2020(), Vibration(25600), Vibration(12000)} {
		x := noise(rng, int(2.3*cfg.SampleRate))
		want, err := Patches(cfg, x, "m", "s", 42)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			t.Fatal("no patches")
		}
		e, err := NewExtractor(cfg, "m", "s", 42)
		if err != nil {
			t.Fatal(err)
		}
		for trial := range 4 {
			var got []*patch.Patch
			var frames int64
			e.OnFrame(func(i int64, f []float32) {
				if i != frames || len(f) != cfg.Bins() {
					t.Fatalf("frame hook: index %d (want %d), %d bins", i, frames, len(f))
				}
				frames++
			})
			emit := func(p *patch.Patch) { got = append(got, p.Clone()) }
			for rest := x; len(rest) > 0; {
				n := min(len(rest), rng.IntN(3000))
				if rng.IntN(5) == 0 {
					n = min(len(rest), 1)
				}
				e.Write(rest[:n], emit)
				rest = rest[n:]
			}
			e.Flush(emit)
			if len(got) != len(want) {
				t.Fatalf("%s trial %d: %d patches, want %d", cfg.Hash()[:8], trial, len(got), len(want))
			}
			for i := range got {
				if got[i].Tag != want[i].Tag || !slices.Equal(got[i].Values, want[i].Values) {
					t.Fatalf("trial %d patch %d differs: %+v vs %+v", trial, i, got[i].Tag, want[i].Tag)
				}
			}
			if wantFrames := 1 + int64(len(x))/int64(cfg.STFT.Hop); frames != wantFrames {
				t.Fatalf("frame hook saw %d frames, want %d", frames, wantFrames)
			}
		}
	}
}

// TestExtractorResetAndZeroAlloc: Reset restarts frame indices and times, and
// Write allocates nothing in steady state (testing.AllocsPerRun).
func TestExtractorResetAndZeroAlloc(t *testing.T) {
	cfg := Vibration(25600)
	e, err := NewExtractor(cfg, "m", "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	x := noise(rand.New(rand.NewPCG(2, 2)), 25600)
	n := 0
	var sink float32
	emit := func(p *patch.Patch) { n++; sink += p.Values[0] }
	allocs := testing.AllocsPerRun(20, func() { e.Write(x[:1000], emit) })
	if allocs != 0 {
		t.Errorf("Write: %g allocs per run, want 0", allocs)
	}
	if n == 0 {
		t.Fatal("no patches emitted")
	}
	e.Reset(7e9)
	var first *patch.Patch
	e.Write(x, func(p *patch.Patch) {
		if first == nil {
			first = p.Clone()
		}
	})
	if first == nil || first.Frame != 0 || first.StartNs != 7e9 || first.Band != 0 {
		t.Fatalf("after Reset: first patch %+v", first)
	}
}

// BenchmarkExtractor streams one second of signal per op through the whole
// front end (STFT and patches) in 4096-sample chunks.
func BenchmarkExtractor(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"dcase2020", DCASE2020()}, {"vibration25k6", Vibration(25600)}} {
		b.Run(c.name, func(b *testing.B) {
			e, err := NewExtractor(c.cfg, "m", "s", 0)
			if err != nil {
				b.Fatal(err)
			}
			x := noise(rand.New(rand.NewPCG(1, 1)), int(c.cfg.SampleRate))
			var sink float32
			emit := func(p *patch.Patch) { sink += p.Values[0] }
			b.ReportAllocs()
			b.ResetTimer()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, ok := cputime.Thread()
			for range b.N {
				for i := 0; i < len(x); i += 4096 {
					e.Write(x[i:min(i+4096, len(x))], emit)
				}
			}
			c1, _ := cputime.Thread()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "s/s")
			if ok {
				b.ReportMetric(float64(b.N)/(c1-c0).Seconds(), "s/cpu-s")
			}
			_ = sink
		})
	}
}
