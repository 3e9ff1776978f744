// Package train implements the train program: it fits per-machine models on
// recordings of healthy machines and learns their thresholds (fit), scores
// recordings (score), measures detection quality on labelled data (eval),
// follows run-to-failure sequences (timeline) and shows model artifacts
// (inspect). Features are computed with the stream's own front end
// (pkg/feature) and models are applied through pkg/model's Open, exactly as
// the detector applies them.
package train
