package ae

import (
	"github.com/mhmstream/mhm/internal/realdata"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/signal"
	"math"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestDCASEPresetOnRealClips trains the DCASE 2020 preset for a few epochs
// on real normal clips of DCASE 2020 Task 2 (machine id_00, from
// dcase2020-id00.tar.xz) and checks that its validation loss falls.
func TestDCASEPresetOnRealClips(t *testing.T) {
	tmp := realdata.Unpack(t, realdata.DCASE)
	clips, err := filepath.Glob(filepath.Join(tmp, "dcase2020-id00", "train", "normal_*.wav"))
	if err != nil || len(clips) < 12 {
		t.Fatalf("%d training clips in the archive (%v)", len(clips), err)
	}
	sort.Strings(clips)
	const nClips = 12 // ~309 vectors per 10-s clip
	var x []float32
	featStart := time.Now()
	for _, c := range clips[:nClips] {
		v, err := dcaseFeatures(c)
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, v...)
	}
	// pkg/feature's vectors equal the reference's: dcase_ae.py's
	// features() of normal_id_00_00000000.wav gives 309 vectors starting
	// -18.140432 -14.34146 -10.819598 -16.848839, and values 300..302 of
	// vector 100 are -30.95957 -33.60872 -24.781773 (numpy/scipy, float32).
	if filepath.Base(clips[0]) != "normal_id_00_00000000.wav" || len(x) < 309*640 {
		t.Fatalf("first clip %s", clips[0])
	}
	for i, want := range map[int]float64{0: -18.140432, 1: -14.34146, 2: -10.819598, 3: -16.848839,
		100*640 + 300: -30.95957, 100*640 + 301: -33.60872, 100*640 + 302: -24.781773} {
		if math.Abs(float64(x[i])-want) > 1e-4 {
			t.Fatalf("feature %d = %v, dcase_ae.py %v", i, x[i], want)
		}
	}
	n := len(x) / 640
	fit := DCASE2020Fit()
	fit.Epochs, fit.Seed = 4, 1
	start := time.Now()
	m, h, err := Train(DCASE2020(), x, n, 640, &fit, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d clips, %d vectors, features %v, training %v; DCASE preset validation loss (dB²) per epoch: %.2f; train %.2f",
		nClips, n, start.Sub(featStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), h.ValLoss, h.TrainLoss)
	for i := 1; i < len(h.ValLoss); i++ {
		if !(h.ValLoss[i] < h.ValLoss[i-1]) {
			t.Fatalf("validation loss did not fall at epoch %d: %.3f", i+1, h.ValLoss)
		}
	}
	// On raw dB values with Adam at 1e-3 the baseline needs its 100 epochs;
	// 4 epochs (28 steps) take about 8% off.
	if last := h.ValLoss[len(h.ValLoss)-1]; last > 0.95*h.ValLoss[0] {
		t.Fatalf("validation loss %.2f → %.2f: fell by less than 5%%", h.ValLoss[0], last)
	}

	// The clip score of the baseline: the mean of the patch scores. Logged
	// only: 4 epochs on 12 clips is not a trained detector.
	clip := func(path string) float64 {
		v, err := dcaseFeatures(path)
		if err != nil {
			t.Fatal(err)
		}
		s := make([]float64, len(v)/640)
		m.NewScorer().Score(s, nil, v, len(s))
		var sum float64
		for _, e := range s {
			sum += e
		}
		return sum / float64(len(s))
	}
	t.Logf("clip scores: held-out normal %.2f, anomaly %.2f", clip(clips[len(clips)-1]),
		clip(filepath.Join(tmp, "dcase2020-id00", "test", "anomaly_id_00_00000000.wav")))
}

// dcaseFeatures reads a clip with pkg/signal and computes the DCASE 2020
// baseline's 640-value vectors with pkg/feature, the front end the stream
// uses. pkg/signal scales 16-bit samples by 1/32768 and dcase_ae.py by
// 1/32767; the samples are rescaled by 32768/32767 here so the values can be
// compared with the reference's to 1e-4 dB (the difference is a constant
// 2.65e-4 dB, irrelevant to training).
func dcaseFeatures(path string) ([]float32, error) {
	sig, err := signal.Read(path, signal.Options{})
	if err != nil {
		return nil, err
	}
	x := sig.Channel(0)
	for i := range x {
		x[i] *= 32768.0 / 32767.0
	}
	ps, err := feature.Patches(feature.DCASE2020(), x, "id_00", "mic", 0)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, len(ps)*640)
	for _, p := range ps {
		out = append(out, p.Values...)
	}
	return out, nil
}
