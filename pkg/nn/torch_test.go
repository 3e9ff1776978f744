package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// Reference values from PyTorch 1.13 (Debian's python3-torch), produced by
// testdata/torch_ref.py into testdata/torch_ref.json; rerun the script to
// regenerate. Inputs are stored in the file next to PyTorch's outputs.

type torchRef struct {
	Conv2D, ConvT2D, Conv1D, ConvT1D convRef
	BN1D, BN2D                       bnRef
	Optim                            struct {
		P0, Grads                                     []float64
		Adam, AdamL2, AdamW, SGD, SGDMom, SGDNesterov [][]float64
	}
	Clip struct {
		Grads   [][]float64
		Max     float64
		Norm    float64
		Clipped [][]float64
	}
	GNLL struct {
		Mu, Target, LogVar, GMu, GLogVar []float64
		Loss                             float64
	}
	Net struct {
		Init, Final map[string][]float64
		X, T, YEval []float64
		Losses      []float64
	}
}

type convRef struct {
	X, W, B, Y []float64
	YShape     []int
}

type bnRef struct {
	X, Gamma, Beta, YTrain, YEval, RMean, RVar []float64
	Shape                                      []int
}

func loadTorchRef(t *testing.T) *torchRef {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	// The JSON keys are lower case with underscores; map them.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var r torchRef
	dec := func(key string, v any) {
		if err := json.Unmarshal(raw[key], v); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	dec("conv2d", &r.Conv2D)
	dec("convt2d", &r.ConvT2D)
	dec("conv1d", &r.Conv1D)
	dec("convt1d", &r.ConvT1D)
	dec("bn1d", &r.BN1D)
	dec("bn2d", &r.BN2D)
	var o map[string]json.RawMessage
	dec("optim", &o)
	for k, v := range map[string]any{"p0": &r.Optim.P0, "adam": &r.Optim.Adam, "adam_l2": &r.Optim.AdamL2,
		"adamw": &r.Optim.AdamW, "sgd": &r.Optim.SGD, "sgd_mom": &r.Optim.SGDMom, "sgd_nesterov": &r.Optim.SGDNesterov} {
		if err := json.Unmarshal(o[k], v); err != nil {
			t.Fatalf("optim.%s: %v", k, err)
		}
	}
	var grads [][]float64
	if err := json.Unmarshal(o["grads"], &grads); err != nil {
		t.Fatal(err)
	}
	for _, g := range grads {
		r.Optim.Grads = append(r.Optim.Grads, g...)
	}
	dec("clip", &r.Clip)
	dec("gnll", &r.GNLL)
	dec("net", &r.Net)
	return &r
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// near reports whether got matches want within atol + rtol·|want| everywhere.
func near(t *testing.T, name string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); d > atol+rtol*math.Abs(w) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, PyTorch %v (diff %.3g)", name, i, got[i], w, d)
		}
	}
}

func TestConvAgainstPyTorch(t *testing.T) {
	ref := loadTorchRef(t)
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name  string
		ref   convRef
		layer Layer
		in    Shape
	}{
		{"Conv2D", ref.Conv2D, NewConv2D(3, 4, Window2D{KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1}, rng), Shape{3, 7, 6}},
		{"ConvTranspose2D", ref.ConvT2D, NewConvTranspose2D(3, 2, Window2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}, rng), Shape{3, 4, 5}},
		{"Conv1D", ref.Conv1D, NewConv1D(3, 4, 3, 2, 1, rng), Shape{3, 9}},
		{"ConvTranspose1D", ref.ConvT1D, NewConvTranspose1D(3, 2, 4, 2, 1, 0, rng), Shape{3, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := c.layer.Params()
			copy(ps[0].Data, f32(c.ref.W))
			copy(ps[1].Data, f32(c.ref.B))
			y := c.layer.Forward(View(f32(c.ref.X), c.in), false)
			var want Shape
			copy(want[:], c.ref.YShape[1:])
			if y.N != c.ref.YShape[0] || y.Shape != want || c.layer.OutShape(c.in) != want {
				t.Fatalf("output %d×%v, PyTorch %v", y.N, y.Shape, c.ref.YShape)
			}
			near(t, "y", y.Data, c.ref.Y, 1e-5, 1e-5)
		})
	}
}

func TestBatchNormAgainstPyTorch(t *testing.T) {
	ref := loadTorchRef(t)
	for _, c := range []struct {
		name string
		r    bnRef
	}{{"1d", ref.BN1D}, {"2d", ref.BN2D}} {
		t.Run(c.name, func(t *testing.T) {
			var s Shape
			copy(s[:], c.r.Shape[1:])
			b := NewBatchNorm(s[0])
			copy(b.Gamma, f32(c.r.Gamma))
			copy(b.Beta, f32(c.r.Beta))
			x := View(f32(c.r.X), s)
			near(t, "train", b.Forward(x, true).Data, c.r.YTrain, 1e-5, 1e-5)
			near(t, "running_mean", b.RunningMean, c.r.RMean, 1e-6, 1e-6)
			near(t, "running_var", b.RunningVar, c.r.RVar, 1e-6, 1e-6)
			near(t, "eval", b.Forward(x, false).Data, c.r.YEval, 1e-5, 1e-5)
		})
	}
}

func TestOptimizersAgainstPyTorch(t *testing.T) {
	ref := loadTorchRef(t).Optim
	n := len(ref.P0)
	cases := []struct {
		name string
		make func([]Param) Optimizer
		want [][]float64
	}{
		{"Adam", func(p []Param) Optimizer { return NewAdam(p, 1e-2) }, ref.Adam},
		{"Adam/L2", func(p []Param) Optimizer { a := NewAdam(p, 1e-2); a.WeightDecay = 0.1; return a }, ref.AdamL2},
		{"AdamW", func(p []Param) Optimizer { a := NewAdamW(p, 1e-2); a.WeightDecay = 0.1; return a }, ref.AdamW},
		{"SGD", func(p []Param) Optimizer { return NewSGD(p, 0.1, 0) }, ref.SGD},
		{"SGD/momentum", func(p []Param) Optimizer {
			s := NewSGD(p, 0.1, 0.9)
			s.Dampening, s.WeightDecay = 0.5, 0.01
			return s
		}, ref.SGDMom},
		{"SGD/nesterov", func(p []Param) Optimizer {
			s := NewSGD(p, 0.1, 0.9)
			s.Nesterov, s.WeightDecay = true, 0.01
			return s
		}, ref.SGDNesterov},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Param{Name: "p", Data: f32(ref.P0), Grad: make([]float32, n)}
			opt := c.make([]Param{p})
			for step, want := range c.want {
				copy(p.Grad, f32(ref.Grads[step*n:(step+1)*n]))
				opt.Step()
				near(t, "p", p.Data, want, 1e-6, 1e-5)
				for _, g := range p.Grad {
					if g != 0 {
						t.Fatal("Step did not zero the gradient")
					}
				}
			}
		})
	}
}

func TestClipGradNormAgainstPyTorch(t *testing.T) {
	ref := loadTorchRef(t).Clip
	var ps []Param
	for _, g := range ref.Grads {
		ps = append(ps, Param{Data: make([]float32, len(g)), Grad: f32(g)})
	}
	norm := ClipGradNorm(ps, ref.Max)
	if math.Abs(norm-ref.Norm) > 1e-5*ref.Norm {
		t.Fatalf("norm %v, PyTorch %v", norm, ref.Norm)
	}
	for i, p := range ps {
		near(t, "clipped", p.Grad, ref.Clipped[i], 1e-6, 1e-5)
	}
	// Below the limit nothing changes.
	before := append([]float32(nil), ps[0].Grad...)
	ClipGradNorm(ps, 1e9)
	for i, g := range ps[0].Grad {
		if g != before[i] {
			t.Fatal("clipping below the limit changed a gradient")
		}
	}
}

func TestGaussianNLLAgainstPyTorch(t *testing.T) {
	ref := loadTorchRef(t).GNLL
	gmu := make([]float32, len(ref.Mu))
	glv := make([]float32, len(ref.LogVar))
	loss := GaussianNLL(gmu, glv, f32(ref.Mu), f32(ref.LogVar), f32(ref.Target))
	if math.Abs(loss-ref.Loss) > 1e-6*math.Abs(ref.Loss) {
		t.Fatalf("loss %v, PyTorch %v", loss, ref.Loss)
	}
	near(t, "gradMu", gmu, ref.GMu, 1e-6, 1e-5)
	near(t, "gradLogVar", glv, ref.GLogVar, 1e-6, 1e-5)
	// Without gradients, the same loss.
	if l2 := GaussianNLL(nil, nil, f32(ref.Mu), f32(ref.LogVar), f32(ref.Target)); l2 != loss {
		t.Fatalf("loss without gradients %v, with %v", l2, loss)
	}
}

// TestTrainingAgainstPyTorch trains Linear-Tanh-BN-ReLU-Linear with MSE and Adam
// for three steps from PyTorch's initial weights and compares the losses,
// the final weights and running statistics, and the inference output.
func TestTrainingAgainstPyTorch(t *testing.T) {
	ref := loadTorchRef(t).Net
	rng := rand.New(rand.NewPCG(1, 1))
	d1, bn, d2 := NewDense(6, 5, rng), NewBatchNorm1D(5), NewDense(5, 3, rng)
	net := NewSequential(d1, NewTanh(), bn, NewReLU(), d2)
	names := map[string][]float32{
		"0.weight": d1.W, "0.bias": d1.B, "2.weight": bn.Gamma, "2.bias": bn.Beta,
		"2.running_mean": bn.RunningMean, "2.running_var": bn.RunningVar, "4.weight": d2.W, "4.bias": d2.B,
	}
	for k, v := range names {
		copy(v, f32(ref.Init[k]))
	}
	m := NewLossModel(net, MSE)
	opt := NewAdam(net.Params(), 1e-2)
	x, y := View(f32(ref.X), Shape{6}), View(f32(ref.T), Shape{3})
	for i, want := range ref.Losses {
		got := m.Step(x, y, true)
		if math.Abs(got-want) > 1e-5*want {
			t.Fatalf("step %d: loss %v, PyTorch %v", i, got, want)
		}
		opt.Step()
	}
	for k, v := range names {
		near(t, k, v, ref.Final[k], 1e-5, 1e-4)
	}
	near(t, "eval output", net.Forward(x, false).Data, ref.YEval, 1e-5, 1e-4)
}
