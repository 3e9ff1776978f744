package ae

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/mhmstream/mhm/pkg/nn"
)

// Scorer is the interface pkg/model and the detector use for every model
// kind (the VAE implements it too); *Scorer must satisfy it.
type scorer interface {
	InputDim() int
	Score(scores []float64, perFeature []float32, x []float32, n int)
}

var _ scorer = (*Scorer)(nil)

func randData(rng *rand.Rand, n, d int) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// small returns a quick configuration of each kind for d = 2×8 inputs.
func small() map[string]Config {
	return map[string]Config{
		"dense":     {Kind: Dense, Frames: 2, Bins: 8, Hidden: []int{12, 10}, Code: 3, BatchNorm: true, CodeBatchNorm: true, CodeActivation: ReLU},
		"raw":       {Kind: Dense, Frames: 2, Bins: 8, Code: 4, NoStandardize: true, Init: TorchDefault, Activation: Tanh},
		"sparse":    {Kind: Sparse, Frames: 2, Bins: 8, Hidden: []int{12}, Code: 6, Sparsity: Sparsity{L1: 0.01, Rho: 0.1, Beta: 0.05}},
		"denoising": {Kind: Denoising, Frames: 2, Bins: 8, Hidden: []int{12}, Code: 3, Corruption: Corruption{Sigma: 0.3, MaskProb: 0.1}, Activation: ELU},
		"caes": {Kind: CAES, Frames: 4, Bins: 4, Code: 3, BatchNorm: true, CodeBatchNorm: true, CodeActivation: LeakyReLU,
			Conv: []ConvLayer{{Channels: 3, KH: 3, KW: 3, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1}, {Channels: 4, KH: 2, KW: 3, StrideW: 2, PadW: 1}}},
		"caes-nocode": {Kind: CAES, Frames: 4, Bins: 4, BatchNorm: true, CodeActivation: Sigmoid, Sparsity: Sparsity{Rho: 0.2, Beta: 0.1},
			Conv: []ConvLayer{{Channels: 2, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}}},
	}
}

func trainSmall(t testing.TB, cfg Config, seed uint64) (*Model, []float32, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	d := cfg.Frames * cfg.Bins
	const n = 96
	x := randData(rng, n, d)
	cfg.Seed = seed
	m, _, err := Train(cfg, x, n, d, &nn.FitConfig{Epochs: 2, BatchSize: 16, Seed: seed, ValFraction: 0.25}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, x, n
}

// TestArchitecture checks the networks of each kind: the shapes through
// the encoder and decoder, the code size, and that the stored-value count
// computed from the Config alone (used to refuse absurd blobs) is exact.
func TestArchitecture(t *testing.T) {
	cases := small()
	cases["dcase"] = DCASE2020()
	for _, k := range []Kind{Dense, Sparse, Denoising, CAES} {
		for _, s := range [][2]int{{5, 128}, {8, 32}, {1, 7}, {3, 3}} {
			cases[fmt.Sprintf("%s-default-%dx%d", k, s[0], s[1])] = Defaults(k, s[0], s[1])
		}
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := m.arch.in
			code := m.enc.OutShape(in)
			if code.Size() != m.CodeDim() {
				t.Fatalf("encoder gives %v, CodeDim %d", code, m.CodeDim())
			}
			if out := m.dec.OutShape(code); out != in {
				t.Fatalf("decoder gives %v for input %v", out, in)
			}
			stored := nn.NumParams(nn.CollectParams(m.enc, m.dec)) + nn.NumParams(nn.CollectState(m.enc, m.dec))
			if stored != m.arch.params {
				t.Fatalf("config predicts %d stored values, the networks have %d", m.arch.params, stored)
			}
		})
	}
}

// TestDCASEPreset pins the preset to dcase_ae.py's model(): 10 Dense
// layers 640-128-128-128-128-8-128-128-128-128-640, BatchNorm+ReLU after all
// but the last, and its parameter count (PyTorch:
// sum(p.numel() for p in model().parameters()) = 267928).
func TestDCASEPreset(t *testing.T) {
	m, err := NewModel(DCASE2020())
	if err != nil {
		t.Fatal(err)
	}
	var dims []int
	var kinds []string
	for _, net := range []*nn.Sequential{m.enc, m.dec} {
		for _, l := range net.Layers {
			switch v := l.(type) {
			case *nn.Dense:
				if len(dims) == 0 {
					dims = append(dims, v.In)
				}
				dims = append(dims, v.Out)
				kinds = append(kinds, "D")
			case *nn.BatchNorm:
				kinds = append(kinds, "B")
			case *nn.ReLU:
				kinds = append(kinds, "R")
			default:
				t.Fatalf("unexpected layer %T", l)
			}
		}
	}
	if want := []int{640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640}; !reflect.DeepEqual(dims, want) {
		t.Fatalf("widths %v, want %v", dims, want)
	}
	if got, want := strings.Join(kinds, ""), strings.Repeat("DBR", 9)+"D"; got != want {
		t.Fatalf("layers %s, want %s", got, want)
	}
	if p := m.NumParams(); p != 267928 {
		t.Fatalf("%d parameters, PyTorch's model() has 267928", p)
	}
	if m.Standardizer() != nil {
		t.Fatal("the DCASE preset standardises; the baseline trains on raw log-mel")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Frames: 1, Bins: 4, Code: 2}
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" means valid
	}{
		{"minimal", func(*Config) {}, ""},
		{"unknown kind", func(c *Config) { c.Kind = "vae" }, "unknown kind"},
		{"no frames", func(c *Config) { c.Frames = 0 }, "patch"},
		{"huge", func(c *Config) { c.Frames, c.Bins = 1<<12, 1<<12 }, "patch"},
		{"no code", func(c *Config) { c.Code = 0 }, "code width"},
		{"bad hidden", func(c *Config) { c.Hidden = []int{4, 0} }, "hidden layer 1"},
		{"activation", func(c *Config) { c.Activation = "swish" }, "unknown activation"},
		{"init", func(c *Config) { c.Init = "zeros" }, "unknown init"},
		{"lr", func(c *Config) { c.LearningRate = -1 }, "learning rate"},
		{"lr NaN", func(c *Config) { c.LearningRate = math.NaN() }, "learning rate"},
		{"sparse without penalty", func(c *Config) { c.Kind = Sparse }, "kind sparse needs"},
		{"KL needs sigmoid", func(c *Config) { c.Sparsity = Sparsity{Rho: 0.1, Beta: 1}; c.CodeActivation = ReLU }, "sigmoid"},
		{"KL defaults to sigmoid", func(c *Config) { c.Sparsity = Sparsity{Rho: 0.1, Beta: 1} }, ""},
		{"rho", func(c *Config) { c.Sparsity = Sparsity{Rho: 1, Beta: 1} }, "rho"},
		{"negative l1", func(c *Config) { c.Sparsity.L1 = -1 }, "sparsity"},
		{"denoising without corruption", func(c *Config) { c.Kind = Denoising }, "kind denoising needs"},
		{"mask 1", func(c *Config) { c.Corruption.MaskProb = 1 }, "corruption"},
		{"sigma inf", func(c *Config) { c.Corruption.Sigma = math.Inf(1) }, "corruption"},
		{"caes without conv", func(c *Config) { c.Kind = CAES }, "at least one conv"},
		{"caes kernel too large", func(c *Config) {
			c.Kind, c.Frames, c.Bins, c.Conv = CAES, 2, 8, []ConvLayer{{Channels: 2, KH: 4, KW: 3}}
		}, "larger than"},
		{"caes padding", func(c *Config) {
			c.Kind, c.Frames, c.Bins, c.Conv = CAES, 4, 8, []ConvLayer{{Channels: 2, KH: 2, KW: 2, PadH: 2}}
		}, "padding"},
		{"caes no code ok", func(c *Config) {
			c.Kind, c.Frames, c.Bins, c.Code, c.Conv = CAES, 4, 8, 0, []ConvLayer{{Channels: 2, KH: 2, KW: 2}}
		}, ""},
		{"too many params", func(c *Config) { c.Bins, c.Hidden = 1<<16, []int{1 << 14} }, "parameters"},
		{"conv overflow", func(c *Config) {
			c.Kind, c.Conv = CAES, []ConvLayer{{Channels: 1 << 16, KH: 60000, KW: 60000, PadH: 59999, PadW: 59999}}
		}, "too large"},
		{"conv workspace", func(c *Config) {
			c.Kind, c.Frames, c.Bins, c.Conv = CAES, 2000, 2000, []ConvLayer{{Channels: 1, KH: 1000, KW: 1000}}
		}, "workspace"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.mod(&cfg)
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("no error, want %q", c.want)
			case c.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want ErrConfig with %q", err, c.want)
			}
		})
	}
}

// TestConfigJSON: the JSON names are stable and a resolved config round
// trips.
func TestConfigJSON(t *testing.T) {
	m, err := NewModel(Defaults(Denoising, 5, 128))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m.Config())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"denoising","frames":5,"bins":128,"hidden":[128,128,128,128],"code":8,"activation":"relu",` +
		`"code_activation":"relu","batch_norm":true,"code_batch_norm":true,"init":"he_uniform","learning_rate":0.001,` +
		`"corruption":{"sigma":0.5},"seed":0}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, m.Config()) {
		t.Fatalf("round trip %+v, want %+v", c, m.Config())
	}
}

func TestTrainErrors(t *testing.T) {
	x := make([]float32, 64)
	if _, _, err := Train(Config{Frames: 1, Bins: 8, Code: 2}, x, 8, 4, nil, nil); !errors.Is(err, ErrDim) {
		t.Fatalf("dimension mismatch: %v", err)
	}
	if _, _, err := Train(Config{Frames: 1, Bins: 8}, x, 8, 8, nil, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad config: %v", err)
	}
	if _, _, err := Train(Config{Frames: 1, Bins: 8, Code: 2}, x, 0, 8, nil, nil); !errors.Is(err, nn.ErrNoData) {
		t.Fatalf("no data: %v", err)
	}
	x[3] = float32(math.NaN())
	if _, _, err := Train(Config{Frames: 1, Bins: 8, Code: 2, NoStandardize: true}, x, 8, 8, &nn.FitConfig{Epochs: 1}, nil); !errors.Is(err, nn.ErrNonFinite) {
		t.Fatalf("NaN data: %v", err)
	}
	// The callback sees every epoch and can stop training.
	var seen []int
	_, h, err := Train(Config{Frames: 1, Bins: 8, Code: 2}, make([]float32, 64), 8, 8, &nn.FitConfig{Epochs: 5, ValFraction: 0.25},
		func(e nn.EpochStats) error {
			seen = append(seen, e.Epoch)
			if math.IsNaN(e.ValLoss) || e.Epochs != 5 || e.Elapsed <= 0 {
				t.Errorf("epoch stats %+v", e)
			}
			if e.Epoch == 3 {
				return nn.ErrStop
			}
			return nil
		})
	if err != nil || !reflect.DeepEqual(seen, []int{1, 2, 3}) || !h.StoppedEarly {
		t.Fatalf("callback: err %v, epochs %v, history %+v", err, seen, h)
	}
}

// TestStandardizerFitOnTrainingRows: the standardiser sees only the rows
// that train, not the held-out validation rows.
func TestStandardizerFitOnTrainingRows(t *testing.T) {
	const n, d = 100, 4
	x := make([]float32, n*d)
	for r := 0; r < n; r++ {
		for j := 0; j < d; j++ {
			x[r*d+j] = float32(r) // rows 0..79 train: mean 39.5
		}
	}
	orig := append([]float32(nil), x...)
	m, _, err := Train(Config{Frames: 1, Bins: d, Code: 2}, x, n, d, &nn.FitConfig{Epochs: 1, ValFraction: 0.2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, orig) {
		t.Fatal("Train modified its input")
	}
	s := m.Standardizer()
	wantSD := math.Sqrt((80*80 - 1) / 12.0) // population deviation of 0..79
	if s.Mean[0] != 39.5 || math.Abs(float64(s.Std[0])-wantSD) > 1e-4 {
		t.Fatalf("standardiser mean %v std %v, want 39.5 and %.4f (training rows only)", s.Mean[0], s.Std[0], wantSD)
	}
}

// TestTrainDeterministic: equal seeds give bit-identical models; another
// Config.Seed (weights, corruption) or FitConfig.Seed (shuffling) differs.
func TestTrainDeterministic(t *testing.T) {
	for name, cfg := range small() {
		t.Run(name, func(t *testing.T) {
			a, _, _ := trainSmall(t, cfg, 7)
			b, _, _ := trainSmall(t, cfg, 7)
			c, _, _ := trainSmall(t, cfg, 8)
			ab, bb, cb := must(a.MarshalBinary()), must(b.MarshalBinary()), must(c.MarshalBinary())
			if !bytes.Equal(ab, bb) {
				t.Fatal("two runs with equal seeds differ")
			}
			if bytes.Equal(ab, cb) {
				t.Fatal("runs with different seeds are equal")
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestFoldedScorerMatches: the folded Scorer (BatchNorm folded into the
// Dense/conv weights, ReLU fused) scores like the unfolded networks in
// inference mode, within float32 rounding: |Δscore| ≤ 1e-4·(1+score) and
// |Δe_j| ≤ 1e-3·(1+e_j).
func TestFoldedScorerMatches(t *testing.T) {
	cases := small()
	dc := DCASE2020()
	cases["dcase"] = dc
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			m, x, n := trainSmall(t, cfg, 11)
			// trainSmall ran 2 epochs: BatchNorm's statistics and γ, β are
			// no longer the identity.
			d := m.InputDim()
			s1, s2 := make([]float64, n), make([]float64, n)
			p1, p2 := make([]float32, n*d), make([]float32, n*d)
			m.NewScorer().Score(s1, p1, x, n)
			m.newScorer(false).Score(s2, p2, x, n)
			var maxRel float64
			for i := range s1 {
				maxRel = max(maxRel, math.Abs(s1[i]-s2[i])/(1+math.Abs(s2[i])))
			}
			for i := range p1 {
				if math.Abs(float64(p1[i]-p2[i])) > 1e-3*(1+float64(p2[i])) {
					t.Fatalf("per-feature error %d: folded %v, unfolded %v", i, p1[i], p2[i])
				}
			}
			if maxRel > 1e-4 {
				t.Fatalf("folded and unfolded scores differ by %.3g relative", maxRel)
			}
		})
	}
}

// TestScoreDefinition checks Score against its formula computed from
// Reconstruct and the standardiser, and the chunking of large calls.
func TestScoreDefinition(t *testing.T) {
	m, x, n := trainSmall(t, small()["dense"], 12)
	d := m.InputDim()
	s := m.NewScorer()
	rec := make([]float32, n*d)
	s.Reconstruct(rec, x, n)
	scores := make([]float64, n)
	pf := make([]float32, n*d)
	s.Score(scores, pf, x, n)
	std := m.Standardizer()
	for r := 0; r < n; r++ {
		var sum float64
		for j := 0; j < d; j++ {
			i := r*d + j
			e := float64((rec[i] - x[i]) / std.Std[j]) // the error in standardised units
			if math.Abs(e*e-float64(pf[i])) > 1e-4*(1+e*e) {
				t.Fatalf("patch %d feature %d: e² %v, perFeature %v", r, j, e*e, pf[i])
			}
			sum += float64(pf[i])
		}
		if math.Abs(sum/float64(d)-scores[r]) > 1e-9*(1+scores[r]) {
			t.Fatalf("patch %d: score %v, mean of the per-feature errors %v", r, scores[r], sum/float64(d))
		}
	}
	// Without perFeature, the same scores; more patches than a chunk give
	// the same per-patch scores.
	big := make([]float32, 0, (scoreChunk+n)*d)
	for len(big) < scoreChunk*d+n*d {
		big = append(big, x...)
	}
	nb := len(big) / d
	bs := make([]float64, nb)
	s.Score(bs, nil, big, nb)
	for i := range bs {
		if math.Abs(bs[i]-scores[i%n]) > 1e-5*(1+scores[i%n]) {
			t.Fatalf("chunked patch %d: %v, want %v", i, bs[i], scores[i%n])
		}
	}
}

// TestScoreAllocatesNothing: after the first call with a batch, Score,
// Reconstruct and Encode allocate nothing (products small enough that
// gonum's SGEMM stays serial; see docs/nn.md for its own allocations).
func TestScoreAllocatesNothing(t *testing.T) {
	for name, cfg := range small() {
		t.Run(name, func(t *testing.T) {
			m, x, n := trainSmall(t, cfg, 13)
			const b = 16
			s := m.NewScorer()
			scores := make([]float64, b)
			pf := make([]float32, b*m.InputDim())
			code := make([]float32, b*m.CodeDim())
			s.Score(scores, pf, x, b)
			s.Reconstruct(pf, x, b)
			s.Encode(code, x, b)
			a := testing.AllocsPerRun(10, func() {
				s.Score(scores, pf, x, b)
				s.Score(scores, nil, x, b/2)
				s.Reconstruct(pf, x, b)
				s.Encode(code, x, b)
			})
			if a != 0 {
				t.Fatalf("%v allocations per run", a)
			}
			_ = n
		})
	}
}

// TestTrainStepAllocatesNothing: a steady-state training step of each kind
// (corruption and penalties included) allocates nothing.
func TestTrainStepAllocatesNothing(t *testing.T) {
	for name, cfg := range small() {
		t.Run(name, func(t *testing.T) {
			m, x, _ := trainSmall(t, cfg, 14)
			tr := newTrainer(m)
			opt := nn.NewAdam(tr.params, 1e-3)
			in := nn.Tensor{Data: x[:16*m.InputDim()], N: 16, Shape: m.arch.in}
			step := func() { tr.Step(in, nn.Tensor{}, true); opt.Step(); tr.Step(in, nn.Tensor{}, false) }
			step()
			if a := testing.AllocsPerRun(10, step); a != 0 {
				t.Fatalf("%v allocations per step", a)
			}
		})
	}
}

// TestScorersAreIndependent: scorers made from one model give equal
// results from different goroutines at once.
func TestScorersAreIndependent(t *testing.T) {
	m, x, n := trainSmall(t, small()["caes"], 15)
	want := make([]float64, n)
	m.NewScorer().Score(want, nil, x, n)
	done := make(chan []float64)
	for g := 0; g < 4; g++ {
		go func() {
			s := m.NewScorer()
			got := make([]float64, n)
			for i := 0; i < 20; i++ {
				s.Score(got, nil, x, n)
			}
			done <- got
		}()
	}
	for g := 0; g < 4; g++ {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Fatal("concurrent scorers disagree")
		}
	}
}

func TestScorePanicsOnShortSlices(t *testing.T) {
	m, x, _ := trainSmall(t, small()["raw"], 16)
	s := m.NewScorer()
	for name, f := range map[string]func(){
		"scores":     func() { s.Score(make([]float64, 1), nil, x, 2) },
		"x":          func() { s.Score(make([]float64, 2), nil, x[:m.InputDim()], 2) },
		"perFeature": func() { s.Score(make([]float64, 2), make([]float32, 3), x, 2) },
		"encode":     func() { s.Encode(make([]float32, 1), x, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
