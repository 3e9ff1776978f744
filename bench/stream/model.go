package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/threshold"
)

type patchT = patch.Patch

// dcaseModel writes one artifact per sensor into dir: the DCASE 2020
// baseline autoencoder (640-128×4-8-128×4-640, BatchNorm), untrained as in
// py_pipeline.py (the work per patch does not depend on the weights), on
// the DCASE 2020 front end, with 1 s tumbling windows. The threshold is a
// placeholder (no event is expected; every window gives a score record).
func dcaseModel(dir string, sensors int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	m, err := ae.NewModel(ae.DCASE2020())
	if err != nil {
		return "", err
	}
	w, err := m.MarshalBinary()
	if err != nil {
		return "", err
	}
	size := 0
	for i := 0; i < sensors; i++ {
		a := &model.Artifact{Meta: model.Meta{Machine: machineID(i), Kind: model.DenseAE, Feature: feature.DCASE2020(),
			Score:     model.ScoreSpec{Type: model.ScoreMSE},
			Threshold: threshold.Threshold{Method: threshold.Quantile, Param: 0.99, Value: 1e9},
			Decision:  model.Decision{Window: threshold.WindowConfig{LengthNs: 1e9}, Persistence: threshold.PersistenceConfig{K: 3, N: 3}},
			Created:   time.Unix(0, 0).UTC(), Tool: "bench/stream"}, Weights: w}
		if err := a.WriteFile(filepath.Join(dir, machineID(i)+".mhm")); err != nil {
			return "", err
		}
		st, _ := os.Stat(filepath.Join(dir, machineID(i)+".mhm"))
		size = int(st.Size())
	}
	return fmt.Sprintf("%d parameters, %d-byte artifact", m.NumParams(), size), nil
}
