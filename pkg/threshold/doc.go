// Package threshold turns anomaly scores into decisions: it learns a
// threshold from calibration scores, aggregates patch scores into clip or
// window scores, and applies a persistence rule so that alarms do not flap.
//
// Scores are oriented "higher is more anomalous" everywhere. A score s is
// above a threshold T when s > T (strictly).
//
// # Thresholds
//
// [Fit] learns a [Threshold] from calibration scores (normal data held out
// from training) with one of three [Method]s:
//
//   - [Quantile]: the empirical q-quantile of the scores (default q = 0.99),
//     with numpy's default "linear" interpolation (see [QuantileSorted]).
//   - [Gamma]: a gamma distribution with location fixed at 0 fitted by
//     maximum likelihood, and its q-quantile (default q = 0.99). This is the
//     DCASE 2021+ baselines' method (they call scipy.stats.gamma.fit and
//     gamma.ppf); here the location is fixed at 0 as scipy's floc=0 does.
//   - [MeanStd]: mean + k·sd of the scores (default k = 3), sd with
//     Bessel's correction (n−1).
//
// The returned [Threshold] records the method, its parameter, the value and
// the calibration statistics; it marshals to JSON for the model artifact.
//
// # Aggregation
//
// [Aggregation] reduces the patch scores of a clip to one score (mean, max,
// or the mean of the top k). [WindowAggregator] does the same on a stream,
// over time windows of fixed length and hop, without allocating per patch,
// and reports which features (or bands) contributed most.
//
// # Persistence
//
// [Persistence] raises an alarm when K of the last N windows are above the
// threshold, and clears it when fewer than K of the last N are above (or,
// with Quiet > 0, after Quiet consecutive windows at or below the threshold).
// The FEMTO run-to-failure protocol's "3 consecutive snapshots" is K = N = 3.
//
// See docs/threshold.md for the formulas, defaults and their references.
package threshold
