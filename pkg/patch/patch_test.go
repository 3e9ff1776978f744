package patch

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

func layout(bins int, rate float64, hop int) Layout {
	l := Layout{LowHz: make([]float64, bins), HighHz: make([]float64, bins), Rate: rate, Hop: hop}
	for i := range bins {
		l.LowHz[i], l.HighHz[i] = float64(100*i), float64(100*i+100)
	}
	return l
}

func randomSpec(rng *rand.Rand, frames, bins int) [][]float32 {
	s := make([][]float32, frames)
	for i := range s {
		s[i] = make([]float32, bins)
		for j := range s[i] {
			s[i][j] = float32(rng.NormFloat64())
		}
	}
	return s
}

// TestCutterAgainstIndexing checks every patch of random shapes against the
// definition: the patches with first frame k = 0, Hop, 2*Hop, ... (k+T <= N)
// and band b = 0..bands-1, in that order, with value (t, f) =
// spec[k+t][b*BinHop+f]; none missing, none repeated.
func TestCutterAgainstIndexing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := range 300 {
		bins := 1 + rng.IntN(40)
		cfg := Config{Frames: 1 + rng.IntN(7), Hop: 1 + rng.IntN(5)}
		if rng.IntN(3) > 0 {
			cfg.Bins = 1 + rng.IntN(bins)
			cfg.BinHop = rng.IntN(cfg.Bins + 2) // 0 = default F
		}
		N := rng.IntN(40)
		spec := randomSpec(rng, N, bins)
		l := layout(bins, 16000, 512)
		got, err := Cut(cfg, l, spec, "m", "s", 1000)
		if err != nil {
			t.Fatalf("trial %d %+v: %v", trial, cfg, err)
		}
		d := cfg.WithDefaults()
		F, bh := d.Bins, d.BinHop
		if F == 0 {
			F, bh = bins, bins
		}
		bands := 1 + (bins-F)/bh
		i := 0
		for k := 0; k+d.Frames <= N; k += d.Hop {
			for b := range bands {
				if i >= len(got) {
					t.Fatalf("trial %d %+v: %d patches, want more", trial, cfg, len(got))
				}
				p := got[i]
				i++
				if p.Frame != int64(k) || p.Band != b || p.Frames != d.Frames || p.Bins != F {
					t.Fatalf("trial %d: patch %d is frame %d band %d (%dx%d), want frame %d band %d (%dx%d)",
						trial, i-1, p.Frame, p.Band, p.Frames, p.Bins, k, b, d.Frames, F)
				}
				for tt := range d.Frames {
					for f := range F {
						if p.At(tt, f) != spec[k+tt][b*bh+f] || p.Values[tt*F+f] != p.At(tt, f) {
							t.Fatalf("trial %d: patch (frame %d, band %d) value (%d, %d) wrong", trial, k, b, tt, f)
						}
					}
				}
				if p.LowHz != l.LowHz[b*bh] || p.HighHz != l.HighHz[b*bh+F-1] {
					t.Fatalf("trial %d: band %d Hz [%g, %g]", trial, b, p.LowHz, p.HighHz)
				}
				if p.StartNs != 1000+int64(k)*32_000_000 || p.DurationNs != int64(d.Frames)*32_000_000 {
					t.Fatalf("trial %d: times %d + %d", trial, p.StartNs, p.DurationNs)
				}
				if p.Machine != "m" || p.Sensor != "s" {
					t.Fatalf("trial %d: tag %+v", trial, p.Tag)
				}
			}
		}
		if i != len(got) {
			t.Fatalf("trial %d %+v: %d patches, want %d", trial, cfg, len(got), i)
		}
	}
}

// TestCutterReuseAndClone: the emitted patch is reused between calls; a
// Clone keeps its values.
func TestCutterReuseAndClone(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	spec := randomSpec(rng, 10, 8)
	c, err := NewCutter(Config{Frames: 2}, layout(8, 1000, 10), "m", "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []*Patch
	var clones []*Patch
	for _, f := range spec {
		c.Push(f, func(p *Patch) { seen = append(seen, p); clones = append(clones, p.Clone()) })
	}
	if len(seen) != 9 || seen[0] != seen[8] {
		t.Fatalf("%d patches; reused: %v", len(seen), seen[0] == seen[8])
	}
	for i, p := range clones {
		if !slices.Equal(p.Values[:8], spec[i]) || !slices.Equal(p.Values[8:], spec[i+1]) {
			t.Fatalf("clone %d values changed", i)
		}
	}
	c.Reset(5e9)
	n := 0
	c.Push(spec[0], func(*Patch) { n++ })
	c.Push(spec[1], func(p *Patch) {
		n++
		if p.Frame != 0 || p.StartNs != 5e9 {
			t.Errorf("after Reset: frame %d at %d", p.Frame, p.StartNs)
		}
	})
	if n != 1 {
		t.Errorf("after Reset: %d patches from 2 frames, want 1", n)
	}
}

func TestSamplesToNs(t *testing.T) {
	for _, c := range []struct {
		n    int64
		rate float64
		want int64
	}{
		{512, 16000, 32_000_000},
		{128, 25600, 5_000_000},
		{128, 12000, 10_666_667},
		{1, 3, 333_333_333},
		{2, 3, 666_666_667},
		{1, 44100.5, 22675},
		{0, 16000, 0},
	} {
		if got := SamplesToNs(c.n, c.rate); got != c.want {
			t.Errorf("SamplesToNs(%d, %g) = %d, want %d", c.n, c.rate, got, c.want)
		}
	}
	// Exact for large counts: compare with big.Int arithmetic.
	rng := rand.New(rand.NewPCG(3, 3))
	for range 1000 {
		n := rng.Int64N(1 << 50)
		r := int64(1 + rng.IntN(200000))
		num := new(big.Int).Mul(big.NewInt(n), big.NewInt(1e9))
		num.Add(num, big.NewInt(r/2))
		want := num.Div(num, big.NewInt(r))
		if !want.IsInt64() {
			continue
		}
		if got := SamplesToNs(n, float64(r)); got != want.Int64() {
			t.Fatalf("SamplesToNs(%d, %d) = %d, want %d", n, r, got, want.Int64())
		}
	}
}

func TestConfigErrors(t *testing.T) {
	l := layout(16, 1000, 10)
	for _, cfg := range []Config{
		{Frames: -1}, {Hop: -2}, {Bins: -1}, {Bins: 17}, {Bins: 4, BinHop: -1},
	} {
		if _, err := NewCutter(cfg, l, "", "", 0); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
	for _, bad := range []Layout{
		{},
		{LowHz: []float64{0}, HighHz: []float64{1, 2}, Rate: 1, Hop: 1},
		{LowHz: []float64{0}, HighHz: []float64{1}, Rate: 0, Hop: 1},
		{LowHz: []float64{0}, HighHz: []float64{1}, Rate: math.NaN(), Hop: 1},
		{LowHz: []float64{0}, HighHz: []float64{1}, Rate: 1, Hop: 0},
	} {
		if _, err := NewCutter(Config{}, bad, "", "", 0); !errors.Is(err, ErrConfig) {
			t.Errorf("layout %+v: %v, want ErrConfig", bad, err)
		}
	}
	f, hop, bands, err := Config{Bins: 16}.Shape(129)
	if err != nil || f != 16 || hop != 16 || bands != 8 {
		t.Errorf("Shape(129) of 16-bin bands = %d, %d, %d, %v; want 16, 16, 8", f, hop, bands, err)
	}
	f, hop, bands, err = Config{}.Shape(128)
	if err != nil || f != 128 || hop != 128 || bands != 1 {
		t.Errorf("full-band Shape(128) = %d, %d, %d, %v", f, hop, bands, err)
	}
}

func BenchmarkPush(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
		bins int
	}{
		{"dcase_5x128", Config{Frames: 5}, 128},
		{"vib_8x16_hop4", Config{Frames: 8, Hop: 4, Bins: 16}, 128},
	} {
		b.Run(c.name, func(b *testing.B) {
			cut, err := NewCutter(c.cfg, layout(c.bins, 16000, 512), "m", "s", 0)
			if err != nil {
				b.Fatal(err)
			}
			spec := randomSpec(rand.New(rand.NewPCG(1, 1)), 64, c.bins)
			var sink float32
			emit := func(p *Patch) { sink += p.Values[0] }
			b.ReportAllocs()
			for i := range b.N {
				cut.Push(spec[i%64], emit)
			}
			_ = sink
		})
	}
}
