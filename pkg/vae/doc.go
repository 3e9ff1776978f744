// Package vae is a variational autoencoder over spectrogram patches and its
// probabilistic anomaly scores.
//
// # Model
//
// A Model has a Gaussian encoder q(z|x) = N(mu(x), diag exp(lv(x))) that
// predicts the log-variance, a standard normal prior p(z) = N(0, I) and a
// decoder p(x|z) that is Gaussian (a learned per-feature log-variance, or a
// fixed one) or Bernoulli (data in [0, 1]). Config selects a dense or a
// convolutional network over T×F patches (frame-major, the DCASE 640-value
// vector for T = 5, F = 128) and an optional frequency tag: the one-hot
// band index, concatenated to the encoder's dense input and to the
// decoder's input, so that one model serves every band of a spectrum.
// Gaussian models standardise their input per feature (pkg/norm) unless
// Config.NoStandardize.
//
// # Training
//
// Train maximises the ELBO
//
//	E_{z~q(z|x)}[log p(x|z)] − β·KL(q(z|x) ‖ p(z))
//
// with the reparameterisation z = mu + exp(lv/2)⊙ε, the analytic KL, an
// optional β and a linear KL warm-up, through nn.Fit and Adam (Model
// implements nn.Model). Layers are float32; log-likelihoods are summed in
// float64. Training is deterministic for the seeds in Config and
// TrainConfig.
//
// # Scores
//
// NewScorer returns an Estimator of one of four scores, selected by
// ScoreType (ParseScoreType reads the names), each oriented "higher is more
// anomalous":
//
//	log-evidence  −log (1/K) Σ_k p(x|z_k)p(z_k)/q(z_k|x), z_k ~ q          (importance sampling, IWAE)
//	elbo          −(1/L) Σ_l log p(x|z_l) + KL(q ‖ p),  z_l ~ q            (negative ELBO)
//	recon-prob    −(1/L) Σ_l log p(x|z_l),  z_l ~ q                        (negative reconstruction probability)
//	harmonic      log (1/K) Σ_k p(x|z_k)^−1,  z_k ~ p(z|x) by independence Metropolis-Hastings
//
// and, for localisation, the expected per-bin negative log-likelihood
// under q. The encoder runs once per patch and the decoder once over all
// samples of many patches; scoring allocates nothing after the first call.
// Estimator implements Scorer, the interface every model kind offers the
// detector, and BandScorer for band-tagged models.
//
// # Persistence
//
// MarshalBinary and Unmarshal store everything needed to score (config as
// JSON, standardiser, weights via nn.Save) in a versioned blob with a
// CRC-32; a corrupt blob is an error, never a panic.
//
// See docs/vae.md for the estimators' derivations, their variance, the
// closed-form verification and the measured speed.
package vae
