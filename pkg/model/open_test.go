package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/vae"
)

// testFeatures is the vibration front end at 8 kHz: 128 linear bins of
// 31.25 Hz in 8 bands of 16, patches of 8 frames × 16 bins (128 values).
func testFeatures() feature.Config { return feature.Vibration(8000) }

// machineSignal is seconds of a healthy machine at 8 kHz: shaft harmonics
// at 30 Hz multiples, a 1.2 kHz mesh tone and a little noise. With fault,
// a 2.7 kHz tone amplitude-modulated by an impact train at 97 Hz is added
// (a bearing defect ringing a resonance).
func machineSignal(rng *rand.Rand, seconds float64, fault bool) []float32 {
	const rate = 8000
	x := make([]float32, int(seconds*rate))
	ph := rng.Float64() * 2 * math.Pi
	for i := range x {
		t := float64(i) / rate
		v := 0.0
		for h := 1; h <= 5; h++ {
			v += math.Sin(2*math.Pi*30*float64(h)*t+ph*float64(h)) / float64(h)
		}
		v += 0.5 * math.Sin(2*math.Pi*1200*t+ph)
		v += 0.05 * rng.NormFloat64()
		if fault {
			env := math.Exp(-200 * math.Mod(t, 1.0/97))
			v += 0.8 * env * math.Sin(2*math.Pi*2700*t)
		}
		x[i] = float32(v)
	}
	return x
}

// patchesOf returns the patches of x as rows and their band indices.
func patchesOf(t testing.TB, cfg feature.Config, x []float32) ([]float32, []int) {
	t.Helper()
	ps, err := feature.Patches(cfg, x, "m", "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	var rows []float32
	var bands []int
	for _, p := range ps {
		rows = append(rows, p.Values...)
		bands = append(bands, p.Band)
	}
	return rows, bands
}

// trained is a small model of every kind, trained for a few epochs on
// generated healthy patches, with held-out normal and faulty patches.
type trained struct {
	kind                 string
	weights              []byte
	score                ScoreSpec
	normal, fault        []float32
	normBands, faulBands []int
}

var (
	trainedOnce sync.Once
	trainedAll  []trained
	trainedErr  error
)

// trainAll trains the models once per test binary.
func trainAll(t *testing.T) []trained {
	t.Helper()
	trainedOnce.Do(func() { trainedAll, trainedErr = trainModels(t) })
	if trainedErr != nil {
		t.Fatal(trainedErr)
	}
	return trainedAll
}

func trainModels(t *testing.T) ([]trained, error) {
	cfg := testFeatures()
	rng := rand.New(rand.NewPCG(1, 1))
	train, trainBands := patchesOf(t, cfg, machineSignal(rng, 2, false))
	normal, nb := patchesOf(t, cfg, machineSignal(rng, 0.5, false))
	fault, fb := patchesOf(t, cfg, machineSignal(rng, 0.5, true))
	dim := cfg.Dim()
	n := len(train) / dim
	fit := &nn.FitConfig{Epochs: 8, BatchSize: 64, Seed: 1}
	var out []trained
	for _, kind := range []string{DenseAE, CAES, SparseAE, DenoisingAE} {
		k, _ := AEKind(kind)
		c := ae.Defaults(k, cfg.Patch.Frames, cfg.Patch.Bins)
		c.Seed = 1
		m, _, err := ae.Train(c, train, n, dim, fit, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		w, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out = append(out, trained{kind: kind, weights: w, score: ScoreSpec{Type: ScoreMSE}})
	}
	// The VAE is tagged with the band: one model for the 8 bands.
	v, err := vae.New(vae.Config{T: cfg.Patch.Frames, F: cfg.Patch.Bins, Latent: 4, Hidden: []int{64}, Bands: cfg.Bands(), Seed: 1})
	if err != nil {
		return nil, err
	}
	if _, err := v.Train(train, trainBands, n, &vae.TrainConfig{Epochs: 8, BatchSize: 64, Seed: 1}); err != nil {
		return nil, err
	}
	w, err := v.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out = append(out, trained{kind: VAE, weights: w, score: ScoreSpec{Type: "log-evidence", Samples: 8, Seed: 3}})
	for i := range out {
		out[i].normal, out[i].fault, out[i].normBands, out[i].faulBands = normal, fault, nb, fb
	}
	return out, nil
}

func artifactOf(t *testing.T, tr trained) *Artifact {
	t.Helper()
	th, err := threshold.Fit(threshold.Quantile, []float64{1, 2, 3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return &Artifact{
		Meta: Meta{Machine: "pump-01", Kind: tr.kind, Feature: testFeatures(), Score: tr.score, Threshold: th,
			Decision: Decision{Window: threshold.WindowConfig{LengthNs: 1e9}},
			Created:  time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		Weights: tr.weights,
	}
}

// auc is the Mann-Whitney AUC of anomalous scores b against normal a.
func auc(a, b []float64) float64 {
	var s float64
	for _, y := range b {
		for _, x := range a {
			switch {
			case y > x:
				s++
			case y == x:
				s += 0.5
			}
		}
	}
	return s / float64(len(a)*len(b))
}

func TestOpenEveryKind(t *testing.T) {
	dir := t.TempDir()
	for _, tr := range trainAll(t) {
		t.Run(tr.kind, func(t *testing.T) {
			a := artifactOf(t, tr)
			path := filepath.Join(dir, tr.kind+".mhm")
			if err := a.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			l, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if l.Meta.Kind != tr.kind || l.Meta.Version != a.Meta.Version {
				t.Fatalf("loaded %s %s, wrote %s %s", l.Meta.Kind, l.Meta.Version, tr.kind, a.Meta.Version)
			}
			dim := testFeatures().Dim()
			s := l.NewScorer()
			if s.InputDim() != dim || l.InputDim() != dim {
				t.Fatalf("InputDim %d/%d, want %d", s.InputDim(), l.InputDim(), dim)
			}
			wantBands := 0
			if tr.kind == VAE {
				wantBands = 8
			}
			if l.Bands() != wantBands {
				t.Errorf("Bands %d, want %d", l.Bands(), wantBands)
			}
			nn, nf := len(tr.normal)/dim, len(tr.fault)/dim
			sn, sf := make([]float64, nn), make([]float64, nf)
			pf := make([]float32, nn*dim)
			s.Score(sn, pf, tr.normal, tr.normBands, nn)
			s.Score(sf, nil, tr.fault, tr.faulBands, nf)

			// The scorer computes exactly what the kind's own scorer does
			// with the artifact's score settings.
			ref := make([]float64, nn)
			refPF := make([]float32, nn*dim)
			if tr.kind == VAE {
				m, err := vae.Unmarshal(tr.weights)
				if err != nil {
					t.Fatal(err)
				}
				e, err := m.NewScorer(vae.ScoreConfig{Type: vae.LogEvidence, Samples: 8, Seed: 3})
				if err != nil {
					t.Fatal(err)
				}
				e.ScoreBands(ref, refPF, tr.normal, tr.normBands, nn)
			} else {
				m, err := ae.Unmarshal(tr.weights)
				if err != nil {
					t.Fatal(err)
				}
				m.NewScorer().Score(ref, refPF, tr.normal, nn)
			}
			for i := range ref {
				if ref[i] != sn[i] || math.IsNaN(sn[i]) {
					t.Fatalf("patch %d: score %v, the %s scorer gives %v", i, sn[i], tr.kind, ref[i])
				}
			}
			for i := range refPF {
				if refPF[i] != pf[i] {
					t.Fatalf("per-feature %d: %v, want %v", i, pf[i], refPF[i])
				}
			}
			// Two scorers of one Loaded agree (independent copies).
			again := make([]float64, nn)
			l.NewScorer().Score(again, make([]float32, nn*dim), tr.normal, tr.normBands, nn)
			for i := range again {
				if again[i] != sn[i] {
					t.Fatalf("second scorer differs at %d: %v vs %v", i, again[i], sn[i])
				}
			}
			// The trained model separates the fault from held-out normal
			// patches in the band of the fault's ringing 2.7 kHz resonance
			// (band 5: 2531-3000 Hz), far from anything seen in training.
			const faultBand = 5
			if lo, hi := testFeatures().BandHz(faultBand); lo > 2700 || hi < 2700 {
				t.Fatalf("band %d is %g-%g Hz", faultBand, lo, hi)
			}
			bn, bf := inBand(sn, tr.normBands, faultBand), inBand(sf, tr.faulBands, faultBand)
			if got := auc(bn, bf); got < 0.95 {
				t.Errorf("AUC of faulty against normal patches of band %d: %.3f, want >= 0.95", faultBand, got)
			}
			t.Logf("%s: AUC %.3f in band %d (%.3f over all bands), normal median %.4g, fault median %.4g",
				tr.kind, auc(bn, bf), faultBand, auc(sn, sf), median(bn), median(bf))
		})
	}
}

func inBand(scores []float64, bands []int, b int) []float64 {
	var out []float64
	for i, s := range scores {
		if bands[i] == b {
			out = append(out, s)
		}
	}
	return out
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func TestOpenRefuses(t *testing.T) {
	all := trainAll(t)
	dense, vaeM := all[0], all[len(all)-1]
	// A corrupt weights blob, resealed by Encode so that the container's
	// checksum is right: the kind's own checksum catches it.
	for _, tr := range []trained{dense, vaeM} {
		a := artifactOf(t, tr)
		a.Weights = append([]byte(nil), tr.weights...)
		a.Weights[len(a.Weights)/2] ^= 0x10
		b, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: the container should decode: %v", tr.kind, err)
		}
		_, err = Open(d)
		want := ae.ErrFormat
		if tr.kind == VAE {
			want = vae.ErrFormat
		}
		if !errors.Is(err, ErrFormat) || !errors.Is(err, want) {
			t.Errorf("%s corrupt weights: %v, want %v and %v", tr.kind, err, ErrFormat, want)
		}
		a.Weights = a.Weights[:len(a.Weights)-7]
		if _, err := Open(a); !errors.Is(err, ErrFormat) {
			t.Errorf("%s truncated weights: %v", tr.kind, err)
		}
	}
	bad := func(name string, mod func(a *Artifact), want error) {
		t.Run(name, func(t *testing.T) {
			a := artifactOf(t, dense)
			mod(a)
			if _, err := Open(a); !errors.Is(err, want) {
				t.Errorf("err = %v, want %v", err, want)
			}
		})
	}
	bad("dense weights labelled caes", func(a *Artifact) { a.Meta.Kind = CAES }, ErrKind)
	bad("dense weights labelled vae", func(a *Artifact) { a.Meta.Kind = VAE }, ErrFormat)
	bad("unknown kind", func(a *Artifact) { a.Meta.Kind = "svm" }, ErrKind)
	bad("other patch size", func(a *Artifact) { a.Meta.Feature = feature.DCASE2020() }, ErrMismatch)
	bad("vae score on an autoencoder", func(a *Artifact) { a.Meta.Score.Type = "elbo" }, ErrFormat)
	bad("short bin baseline", func(a *Artifact) { a.Meta.BinBaseline = make([]float64, 5) }, ErrFormat)
	bad("invalid features", func(a *Artifact) { a.Meta.Feature.SampleRate = 0 }, ErrFormat)
	t.Run("unknown vae score", func(t *testing.T) {
		a := artifactOf(t, vaeM)
		a.Meta.Score.Type = "mse"
		if _, err := Open(a); !errors.Is(err, ErrFormat) || !errors.Is(err, vae.ErrScoreType) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("vae bands differ from the features", func(t *testing.T) {
		a := artifactOf(t, vaeM)
		a.Meta.Feature.Patch.BinHop = 8 // 15 bands of 16 bins, the model has 8
		if _, err := Open(a); !errors.Is(err, ErrMismatch) {
			t.Errorf("err = %v", err)
		}
	})
	if _, err := Load(filepath.Join(t.TempDir(), "none.mhm")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

// Scorers of one Loaded are independent: goroutines score concurrently
// and get the single-threaded result (run under -race).
func TestScorersConcurrent(t *testing.T) {
	for _, tr := range trainAll(t) {
		l, err := Open(artifactOf(t, tr))
		if err != nil {
			t.Fatal(err)
		}
		dim := l.InputDim()
		n := len(tr.normal) / dim
		want := make([]float64, n)
		l.NewScorer().Score(want, nil, tr.normal, tr.normBands, n)
		var wg sync.WaitGroup
		got := [2][]float64{make([]float64, n), make([]float64, n)}
		for g := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := l.NewScorer()
				for range 3 {
					s.Score(got[g], nil, tr.normal, tr.normBands, n)
				}
			}()
		}
		wg.Wait()
		for g := range got {
			for i := range want {
				if got[g][i] != want[i] {
					t.Fatalf("%s goroutine %d patch %d: %v, want %v", tr.kind, g, i, got[g][i], want[i])
				}
			}
		}
	}
}
