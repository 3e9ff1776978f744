// Package model is the trained-model artifact: one file per model that
// carries everything a detector needs and nothing it must guess: the format
// version, the machine, the model kind and its hyper-parameters, the
// complete feature configuration and its hash, the weights, the score type,
// the learned threshold with its method and calibration statistics, the
// decision rule (window aggregation and persistence), the training history,
// the creation time and a checksum.
//
// A detector asks an artifact whether a patch's feature configuration
// matches it (Matches) and refuses what does not. Open (or Load, from a
// file) decodes the weights of any kind into a Loaded model whose
// NewScorer returns a Scorer, one per goroutine, with the score the
// threshold was learned on:
//
//	l, err := model.Load("pump-01.mhm")
//	s := l.NewScorer()
//	s.Score(scores, perFeature, values, bands, n) // bands: nil unless l.Bands() > 0
//
// The byte layout is documented in docs/artifact.md and on Artifact.Encode.
package model
