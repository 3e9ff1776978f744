package ae

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
)

// dataDir returns the shared real-data folder: $MHM_DATA, else
// ../shared/data relative to the repository root (the folder holding
// go.mod); "" when absent.
func dataDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MHM_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestDCASEPresetOnRealClips trains the DCASE 2020 preset for a few epochs
// on real normal clips of DCASE 2020 Task 2 (machine id_00, from
// dcase2020-id00.tar.xz) and checks that its validation loss falls.
func TestDCASEPresetOnRealClips(t *testing.T) {
	if testing.Short() {
		t.Skip("real-data test skipped under -short")
	}
	archive := filepath.Join(dataDir(t), "dcase2020-id00.tar.xz")
	if _, err := os.Stat(archive); err != nil {
		t.Skipf("real DCASE data absent (%v); set MHM_DATA to the folder holding dcase2020-id00.tar.xz", err)
	}
	tmp := t.TempDir()
	if out, err := exec.Command("tar", "xJf", archive, "-C", tmp).CombinedOutput(); err != nil {
		t.Fatalf("tar xJf %s: %v\n%s", archive, err, out)
	}
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
	// The scaffolding's features equal the reference's: dcase_ae.py's
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

// ---------------------------------------------------------------------------
// TEST SCAFFOLDING, to be replaced by pkg/signal (WAV reading) and
// pkg/feature (log-mel patches) once those branches are merged: a minimal
// 16-bit PCM WAV reader and the DCASE 2020 baseline's log-mel features,
// written to follow /work/shared/bench/dcase_ae.py (read_wav, hz_to_mel,
// mel_filterbank, features) step by step. Not part of pkg/ae's API.
// ---------------------------------------------------------------------------

// readWAV16 returns the first channel of a 16-bit PCM WAV file scaled by
// 1/32767 (dcase_ae.py's np.iinfo(int16).max) and its sample rate.
func readWAV16(path string) ([]float64, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%s: not a RIFF/WAVE file", path)
	}
	var channels, bits, rate int
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(p+8+size, len(b))]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body) != 1 {
				return nil, 0, fmt.Errorf("%s: not PCM", path)
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 || channels < 1 {
				return nil, 0, fmt.Errorf("%s: %d-bit, %d channels; want 16-bit PCM", path, bits, channels)
			}
			n := len(body) / (2 * channels)
			x := make([]float64, n)
			for i := range x {
				x[i] = float64(int16(binary.LittleEndian.Uint16(body[2*i*channels:]))) / 32767
			}
			return x, rate, nil
		}
		p += 8 + size + size%2
	}
	return nil, 0, errors.New(path + ": no data chunk")
}

// Slaney mel scale (librosa's default), as dcase_ae.py.
func hzToMel(f float64) float64 {
	if f >= 1000 {
		return 15 + math.Log(math.Max(f, 1e-10)/1000)/(math.Log(6.4)/27)
	}
	return f / (200.0 / 3)
}

func melToHz(m float64) float64 {
	if m >= 15 {
		return 1000 * math.Exp(math.Log(6.4)/27*(m-15))
	}
	return 200.0 / 3 * m
}

// melBank returns nMels Slaney-normalised triangular filters over the
// nFFT/2+1 bins (dcase_ae.py mel_filterbank).
func melBank(sr, nFFT, nMels int) [][]float64 {
	bins := nFFT/2 + 1
	lo, hi := hzToMel(0), hzToMel(float64(sr)/2)
	mels := make([]float64, nMels+2)
	for i := range mels {
		mels[i] = melToHz(lo + (hi-lo)*float64(i)/float64(nMels+1))
	}
	w := make([][]float64, nMels)
	for i := range w {
		w[i] = make([]float64, bins)
		norm := 2 / (mels[i+2] - mels[i])
		for k := range w[i] {
			f := float64(sr) / 2 * float64(k) / float64(bins-1)
			lower := (f - mels[i]) / (mels[i+1] - mels[i])
			upper := (mels[i+2] - f) / (mels[i+2] - mels[i+1])
			w[i][k] = math.Max(0, math.Min(lower, upper)) * norm
		}
	}
	return w
}

// dcaseFeatures returns the DCASE 2020 baseline vectors of a clip:
// centred STFT (reflect padding, periodic Hann, n_fft 1024, hop 512),
// power spectrum, 128 Slaney mel bands, 10·log10(mel + float32 eps), and
// 5 consecutive frames stacked frame-major into 640 values per vector.
func dcaseFeatures(path string) ([]float32, error) {
	const nFFT, hop, nMels, frames = 1024, 512, 128, 5
	x, sr, err := readWAV16(path)
	if err != nil {
		return nil, err
	}
	if len(x) <= nFFT/2 {
		return nil, fmt.Errorf("%s: %d samples, too short", path, len(x))
	}
	// Reflect padding by nFFT/2 on both sides (numpy mode="reflect").
	p := nFFT / 2
	xp := make([]float64, len(x)+2*p)
	copy(xp[p:], x)
	for i := 0; i < p; i++ {
		xp[p-1-i] = x[i+1]
		xp[p+len(x)+i] = x[len(x)-2-i]
	}
	win := make([]float64, nFFT)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/nFFT)
	}
	bank := melBank(sr, nFFT, nMels)
	fft := fourier.NewFFT(nFFT)
	seq := make([]float64, nFFT)
	coef := make([]complex128, nFFT/2+1)
	pow := make([]float64, nFFT/2+1)
	nFrames := 1 + (len(xp)-nFFT)/hop
	logmel := make([]float32, nFrames*nMels) // frame-major
	eps := float64(math.Nextafter32(1, 2) - 1)
	for t := 0; t < nFrames; t++ {
		for i := range seq {
			seq[i] = xp[t*hop+i] * win[i]
		}
		fft.Coefficients(coef, seq)
		for k, c := range coef {
			a := cmplx.Abs(c)
			pow[k] = a * a
		}
		for m, w := range bank {
			var e float64
			for k, v := range w {
				e += v * pow[k]
			}
			logmel[t*nMels+m] = float32(10 * math.Log10(e+eps))
		}
	}
	n := nFrames - frames + 1
	if n < 1 {
		return nil, nil
	}
	out := make([]float32, 0, n*frames*nMels)
	for t := 0; t < n; t++ {
		out = append(out, logmel[t*nMels:(t+frames)*nMels]...)
	}
	return out, nil
}

// TestScaffoldingFeatures pins the scaffolding's mel filterbank and
// feature layout to properties of dcase_ae.py's (filter peaks and widths
// follow from the Slaney formulas; a pure tone lands in the right band).
func TestScaffoldingFeatures(t *testing.T) {
	bank := melBank(16000, 1024, 128)
	// Slaney normalisation: each filter integrates (over Hz) to 1, i.e.
	// Σ_k w_k·Δf = 1 within discretisation.
	for i, w := range bank {
		var s float64
		for _, v := range w {
			s += v * 16000.0 / 1024
		}
		if i > 10 && math.Abs(s-1) > 0.1 {
			t.Fatalf("filter %d integrates to %.3f", i, s)
		}
	}
	// A 1 kHz tone: the loudest band holds 1000 Hz (mel 15 of 0..hz_to_mel(8000)).
	dir := t.TempDir()
	path := filepath.Join(dir, "tone.wav")
	const sr, n = 16000, 16000
	data := make([]byte, 44+2*n)
	copy(data, "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1)
	binary.LittleEndian.PutUint16(data[22:], 1)
	binary.LittleEndian.PutUint32(data[24:], sr)
	binary.LittleEndian.PutUint32(data[28:], 2*sr)
	binary.LittleEndian.PutUint16(data[32:], 2)
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], 2*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint16(data[44+2*i:], uint16(int16(16000*math.Sin(2*math.Pi*1000*float64(i)/sr))))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := dcaseFeatures(path)
	if err != nil {
		t.Fatal(err)
	}
	// 16000 samples → 1 + 16000/512 = 32 frames → 28 vectors of 640.
	if len(v) != 28*640 {
		t.Fatalf("%d values, want 28 vectors of 640", len(v))
	}
	best := 0
	for m := 0; m < 128; m++ {
		if v[2*640+m] > v[2*640+best] {
			best = m
		}
	}
	lo, hi := melToHz(hzToMel(8000)*float64(best)/129), melToHz(hzToMel(8000)*float64(best+2)/129)
	if !(lo < 1000 && 1000 < hi) {
		t.Fatalf("1 kHz tone loudest in band %d (%.0f–%.0f Hz)", best, lo, hi)
	}
}
