// Package indicator computes the classical health indicators of a
// vibration snapshot — RMS, peak, crest factor, kurtosis (and mean, standard
// deviation, skewness) — that condition-monitoring engineers track next to
// any learned score. The FEMTO run-to-failure protocol compares the learned
// detector with RMS and kurtosis computed the same way.
//
// Samples are float32; every sum is float64. [Compute] handles one slice;
// an [Accumulator] takes a snapshot in pieces (streaming) and gives the same
// result, and two accumulators merge exactly (Chan et al. / Pébay pairwise
// update of central moments).
package indicator
