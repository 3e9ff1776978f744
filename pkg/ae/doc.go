// Package ae is mhm's autoencoder family for anomaly detection on
// spectrogram patches, built on pkg/nn: a dense autoencoder with the DCASE
// 2020 Task 2 baseline as a preset, a convolutional autoencoder stack
// (CAES) over T×F patches, a sparse autoencoder (L1 or KL-divergence
// penalty on the code) and a denoising autoencoder (Gaussian noise or
// masking of the input).
//
// One Config, with JSON tags, describes every member (Kind dense, caes,
// sparse or denoising, the sizes, penalties and corruption); DCASE2020 and
// Defaults give presets. Train fits the input Standardizer (pkg/norm) on
// the training rows and trains through nn.Fit with Adam, deterministically
// for the seeds, reporting every epoch to a callback. A trained Model makes
// independent Scorers (NewScorer): inference copies with BatchNorm folded
// into the preceding layers, which write each patch's anomaly score (the
// mean squared reconstruction error, in the units the model was trained in)
// and, on request, each value's squared error, so that a detector can tell
// which frequency bins are anomalous. MarshalBinary and Unmarshal save and
// load a Model (config JSON, standardiser, weights; versioned, with a
// CRC-32).
//
// Every matrix product goes through pkg/nn's layers (its single GEMM
// seam); this package multiplies no matrices itself. See docs/ae.md for
// the family, the defaults, the score definitions and the measured figures.
package ae
