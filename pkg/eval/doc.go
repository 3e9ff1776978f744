// Package eval measures how well anomaly scores separate normal from
// anomalous samples: the ROC curve, ROC AUC (the Mann-Whitney statistic,
// ties counting one half), DCASE's partial AUC for false-positive rates up
// to p (raw area / p, not sklearn's McClish-standardised value), and the
// confusion matrix, precision, recall and F1 at a threshold. Labels come
// from file names (DCASE's "normal_…"/"anomaly_…") or a "file,label" CSV.
//
// Scores are oriented "higher is more anomalous"; the anomalous class
// ([Anomaly] = 1) is the positive class. See docs/threshold.md for the
// definitions and their references.
package eval
