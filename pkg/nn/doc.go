// Package nn is a small float32 neural-network core: layers with forward
// and backward passes on minibatches, losses, optimisers, a training loop
// and parameter serialisation, in pure Go.
//
// # Tensors
//
// A Tensor is a batch of N examples of one per-example Shape stored
// row-major in a []float32: N×F for dense layers, N×C×L for 1-D and
// N×C×H×W for 2-D convolutions. Shape is a fixed-size array ({640},
// {16, 32, 32}), so building a Tensor never allocates; View wraps a slice.
//
// # Layers
//
// Every Layer has Forward(x, training), Backward(dy) returning dx, Params
// (values and gradients) and OutShape. Dense, Conv1D, Conv2D,
// ConvTranspose1D, ConvTranspose2D, BatchNorm, ReLU, LeakyReLU, ELU, Tanh,
// Sigmoid, Dropout, Reshape/Flatten and the Sequential container implement
// it. Backward accepts any dy, so gradients can be injected at any layer
// and carried across hand-written steps (the VAE's reparameterisation).
// Parameter gradients accumulate; Optimizer.Step applies and zeroes them.
//
// Layers own their outputs and workspaces: buffers grow to the largest
// batch seen and are reused, so a steady-state training step allocates
// nothing in this package. Every matrix product, including the
// convolutions (im2col + GEMM), goes through the single seam
// internal/gemm.Sgemm, so a faster kernel replaces it without touching the
// layers.
//
// # Training
//
// Losses (MSE, L1, GaussianNLL and their scaled-sum variants) return a
// float64 loss and write the gradient. Adam/AdamW and SGD follow PyTorch's
// semantics and defaults; ClipGradNorm clips by global norm; ConstantLR,
// StepLR and CosineLR are learning-rate schedules. Fit trains any Model (a
// Step function over a minibatch plus its Params) with seeded shuffling, a
// validation split, early stopping with restore-best, and per-epoch and
// per-batch callbacks; LossModel is the plain network-plus-loss Model.
//
// Save and Load write and read all parameters and BatchNorm running
// statistics of layers in a small little-endian format with a CRC-32.
//
// See docs/nn.md for the design, the measured speed and the figures.
package nn
