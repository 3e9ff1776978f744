package nn_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn"
)

func ExampleDense() {
	d := nn.NewDense(3, 2, rand.New(rand.NewPCG(1, 1)))
	copy(d.W, []float32{1, 0, -1, 0.5, 0.5, 0.5}) // Out×In, row-major
	copy(d.B, []float32{0, 1})
	x := nn.View([]float32{1, 2, 3, 4, 5, 6}, nn.Shape{3}) // two examples
	y := d.Forward(x, false)
	fmt.Println(y.N, y.Shape, y.Data)
	// Output: 2 [2] [-2 4 -2 8.5]
}

// dcase builds the DCASE 2020 Task 2 baseline autoencoder:
// 640 → 128 ×4 → 8 → 128 ×4 → 640, every hidden Dense followed by
// BatchNorm1d and ReLU, linear output.
func dcase(rng *rand.Rand) *nn.Sequential {
	sizes := []int{640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640}
	var layers []nn.Layer
	for i := 0; i+1 < len(sizes); i++ {
		layers = append(layers, nn.NewDense(sizes[i], sizes[i+1], rng))
		if i+2 < len(sizes) {
			layers = append(layers, nn.NewBatchNorm1D(sizes[i+1]), nn.NewReLU())
		}
	}
	return nn.NewSequential(layers...)
}

// Training the DCASE baseline (MSE, Adam 1e-3, batch 512) with a held-out
// last 10% for validation and early stopping.
func ExampleFit() {
	rng := rand.New(rand.NewPCG(1, 1))
	// Synthetic 640-value vectors near an 8-dimensional subspace.
	basis := make([]float64, 8*640)
	for i := range basis {
		basis[i] = rng.NormFloat64() / math.Sqrt(8)
	}
	x := nn.NewTensor(1024, nn.Shape{640})
	for r := 0; r < x.N; r++ {
		row := x.Row(r)
		for k := 0; k < 8; k++ {
			c := rng.NormFloat64()
			for j := range row {
				row[j] += float32(c * basis[k*640+j])
			}
		}
		for j := range row {
			row[j] += float32(0.1 * rng.NormFloat64())
		}
	}

	net := dcase(rng)
	model := nn.NewLossModel(net, nn.MSE) // autoencoder: the target is x
	opt := nn.NewAdam(net.Params(), 1e-3)
	h, err := nn.Fit(model, opt, x, nn.Tensor{}, &nn.FitConfig{
		Epochs: 3, BatchSize: 512, Seed: 1, ValFraction: 0.1,
		Patience: 5, RestoreBest: true,
		OnEpoch: func(e nn.EpochStats) error {
			// A CLI would draw progress here: e.Epoch/e.Epochs, e.Elapsed, e.ValLoss.
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("epochs:", len(h.ValLoss))
	fmt.Println("validation loss fell:", h.ValLoss[len(h.ValLoss)-1] < h.ValLoss[0])
	// Output:
	// epochs: 3
	// validation loss fell: true
}

// A VAE-style step: the caller glues two networks with its own sampling
// step, injects the gradient of its loss at the decoder's output and
// carries the decoder's input gradient back into the encoder.
func ExampleSequential_Backward() {
	rng := rand.New(rand.NewPCG(1, 1))
	enc := nn.NewSequential(nn.NewDense(6, 8, rng), nn.NewTanh(), nn.NewDense(8, 2, rng))
	dec := nn.NewSequential(nn.NewDense(2, 8, rng), nn.NewTanh(), nn.NewDense(8, 6, rng))
	params := nn.CollectParams(enc, dec)
	opt := nn.NewAdam(params, 1e-2)

	x := nn.NewTensor(4, nn.Shape{6})
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	noise := make([]float32, 4*2)
	z := make([]float32, 4*2)
	grad := make([]float32, 4*6)
	dz := make([]float32, 4*2)
	var first, last float64
	for step := 0; step < 200; step++ {
		code := enc.Forward(x, true)
		for i := range z { // z = code + 0.01·ε, a stand-in for reparameterisation
			noise[i] = float32(rng.NormFloat64())
			z[i] = code.Data[i] + 0.01*noise[i]
		}
		y := dec.Forward(nn.View(z, nn.Shape{2}), true)
		loss := nn.MSE(grad, y.Data, x.Data)
		dzT := dec.Backward(nn.View(grad, y.Shape)) // ∂loss/∂z
		copy(dz, dzT.Data)                          // ∂z/∂code = 1
		enc.BackwardParams(nn.View(dz, nn.Shape{2}))
		opt.Step()
		if step == 0 {
			first = loss
		}
		last = loss
	}
	fmt.Println("reconstruction improved:", last < 0.7*first)
	// Output: reconstruction improved: true
}

func ExampleSave() {
	rng := rand.New(rand.NewPCG(1, 1))
	net := nn.NewSequential(nn.NewDense(4, 3, rng), nn.NewBatchNorm1D(3))
	var buf bytes.Buffer
	if err := nn.Save(&buf, net); err != nil {
		panic(err)
	}
	// 16 header bytes, 6 tensors (weight 12 values, bias, γ, β, running
	// mean and variance 3 each) with names and sizes, 4 CRC bytes.
	fmt.Println(buf.Len())

	same := nn.NewSequential(nn.NewDense(4, 3, rand.New(rand.NewPCG(2, 2))), nn.NewBatchNorm1D(3))
	if err := nn.Load(&buf, same); err != nil {
		panic(err)
	}
	fmt.Println(same.Params()[0].Data[0] == net.Params()[0].Data[0])
	// Output:
	// 255
	// true
}
