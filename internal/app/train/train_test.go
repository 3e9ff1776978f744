package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// run runs the train program and returns its exit status and outputs.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Program().Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustRun runs the program and fails the test unless it succeeds.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("train %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// machine returns seconds of a healthy machine sampled at rate: shaft
// harmonics of 50 Hz, a 1 kHz mesh tone and noise. With fault, a 3 kHz
// resonance rung by an impact train at 37 Hz is added (a bearing defect).
func machine(rng *rand.Rand, rate, seconds float64, fault float64) []float32 {
	x := make([]float32, int(rate*seconds))
	ph := rng.Float64() * 2 * math.Pi
	for i := range x {
		t := float64(i) / rate
		v := 0.0
		for h := 1; h <= 4; h++ {
			v += 0.2 / float64(h) * math.Sin(2*math.Pi*50*float64(h)*t+ph*float64(h))
		}
		v += 0.1*math.Sin(2*math.Pi*1000*t+ph) + 0.01*rng.NormFloat64()
		if fault > 0 {
			v += fault * math.Exp(-150*math.Mod(t, 1.0/37)) * math.Sin(2*math.Pi*3000*t)
		}
		x[i] = float32(v)
	}
	return x
}

// writeWAV writes 16-bit PCM mono.
func writeWAV(t *testing.T, path string, rate int, x []float32) {
	t.Helper()
	var b bytes.Buffer
	data := 2 * len(x)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	for _, v := range x {
		s := math.Round(float64(v) * 32768)
		binary.Write(&b, binary.LittleEndian, int16(max(-32768, min(32767, s))))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeCSV writes a generic two-column CSV (the signal and its negation).
func writeCSV(t *testing.T, path string, x []float32) {
	t.Helper()
	var b strings.Builder
	b.WriteString("a,b\n")
	for _, v := range x {
		fmt.Fprintf(&b, "%.6f,%.6f\n", v, -v)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dcaseSet writes 1 s clips at 16 kHz: train normal_00..09, and a test
// folder with 3 normal and 3 anomalous clips.
func dcaseSet(t *testing.T) (train []string, test string) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 10 {
		p := filepath.Join(dir, fmt.Sprintf("normal_id_00_%08d.wav", i))
		writeWAV(t, p, 16000, machine(rng, 16000, 1, 0))
		train = append(train, p)
	}
	test = filepath.Join(dir, "test")
	os.Mkdir(test, 0o755)
	for i := range 3 {
		writeWAV(t, filepath.Join(test, fmt.Sprintf("normal_id_00_%08d.wav", 100+i)), 16000, machine(rng, 16000, 1, 0))
		writeWAV(t, filepath.Join(test, fmt.Sprintf("anomaly_id_00_%08d.wav", i)), 16000, machine(rng, 16000, 1, 0.3))
	}
	return train, test
}

// fitDCASE fits a small dense autoencoder on the DCASE-like clips.
func fitDCASE(t *testing.T, train []string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fan.mhm")
	args := append([]string{"fit", "--machine", "fan-00", "--model", "dense-ae", "--epochs", "15", "--batch", "64",
		"--hidden", "64,32", "--latent", "4", "--out", out}, extra...)
	mustRun(t, append(args, train...)...)
	return out
}

func TestFitScoreEvalInspectWAV(t *testing.T) {
	train, test := dcaseSet(t)
	var errb bytes.Buffer
	mpath := filepath.Join(t.TempDir(), "fan.mhm")
	args := []string{"fit", "--machine", "fan-00", "--model", "dense-ae", "--epochs", "15", "--batch", "16",
		"--lr", "3e-3", "--hidden", "64,32", "--latent", "4", "--out", mpath}
	var out bytes.Buffer
	if code := Program().Main(context.Background(), append(args, train...), &out, &errb); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errb.String())
	}
	// Not a terminal: one plain progress line per epoch.
	if !strings.Contains(errb.String(), "epoch  1/15  train ") || !strings.Contains(errb.String(), "epoch 15/15") || strings.Contains(errb.String(), "\r") {
		t.Errorf("progress lines:\n%s", errb.String())
	}
	if !strings.Contains(out.String(), "wrote "+mpath) {
		t.Errorf("fit output:\n%s", out.String())
	}

	// The artifact carries what issue 5 lists.
	l, err := model.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	m := l.Meta
	if m.Machine != "fan-00" || m.Kind != model.DenseAE || m.FormatVersion != model.FormatVersion || m.Created.IsZero() || m.Tool == "" {
		t.Errorf("meta %+v", m)
	}
	// 16 kHz WAV: the DCASE 2020 preset, and the dense AE of the baseline
	// (raw log-mels, no standardisation) with the flags applied.
	if m.FeatureHash != feature.DCASE2020().Hash() {
		t.Errorf("features %s, want the DCASE 2020 preset", describeFeatures(m.Feature))
	}
	var h hyper
	if err := json.Unmarshal(m.Hyper, &h); err != nil || h.AE == nil || !h.AE.NoStandardize || h.AE.Code != 4 || len(h.AE.Hidden) != 2 || h.Fit.Epochs != 15 || h.Fit.Batch != 16 {
		t.Errorf("hyper %s (%v)", m.Hyper, err)
	}
	// Calibration: the last 20% of the files as given, whole.
	tr := m.Training
	if len(tr.Files) != 8 || len(tr.CalibrationFiles) != 2 || tr.CalibrationFiles[1] != train[9] || tr.CalibrationFiles[0] != train[8] || tr.Files[7] != train[7] {
		t.Errorf("training files %v, calibration %v", tr.Files, tr.CalibrationFiles)
	}
	// 1 s clips: 1 + 16000/512 - 4 = 28 patches each; one window per clip.
	if tr.Patches != 8*28 || tr.CalibPatches != 2*28 || tr.CalibWindows != 2 || tr.Epochs != 15 || len(tr.History) != 15 || tr.Seed != 1 {
		t.Errorf("training record %+v", tr)
	}
	if m.Decision.Window.LengthNs != 1e9 || m.Decision.Window.Aggregation.String() != "mean" || m.Decision.Persistence.K != 3 {
		t.Errorf("decision %+v", m.Decision)
	}
	if len(m.BinBaseline) != 128 || m.Input == nil || m.Score.Type != model.ScoreMSE || m.Threshold.Method != threshold.Quantile {
		t.Errorf("baseline %d, input %v, score %v, threshold %v", len(m.BinBaseline), m.Input, m.Score, m.Threshold)
	}

	// score: one line per file in order; the threshold is the 0.99
	// quantile of the calibration files' scores as score computes them.
	js := mustRun(t, "score", "--model", mpath, "--json", train[8], train[9])
	var cal []float64
	sc := bufio.NewScanner(strings.NewReader(js))
	for sc.Scan() {
		var j itemJSON
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			t.Fatal(err)
		}
		cal = append(cal, j.Score)
	}
	want, err := threshold.Fit(threshold.Quantile, cal, 0.99)
	if err != nil || len(cal) != 2 || math.Abs(want.Value-m.Threshold.Value) > 1e-12*math.Abs(want.Value) {
		t.Errorf("threshold %v, the calibration files score %v -> %v (%v)", m.Threshold.Value, cal, want.Value, err)
	}
	// The localisation baseline is the mean per-bin contribution (per-
	// feature scores averaged over a patch's frames) of the calibration
	// patches, computed here independently.
	base := make([]float64, 128)
	var np int
	for _, f := range train[8:] {
		_, pf := patchScores(t, l, f)
		for p := 0; p < len(pf)/640; p++ {
			for k := range 128 {
				var s float64
				for fr := range 5 {
					s += float64(pf[p*640+fr*128+k])
				}
				base[k] += s / 5
			}
			np++
		}
	}
	for k := range base {
		if want := base[k] / float64(np); math.Abs(m.BinBaseline[k]-want) > 1e-9*math.Abs(want)+1e-12 {
			t.Fatalf("bin baseline %d = %v, want %v", k, m.BinBaseline[k], want)
		}
	}
	// A clip's score is the mean of its patch scores, computed here
	// independently with the front end and the model's scorer.
	anom := filepath.Join(test, "anomaly_id_00_00000000.wav")
	js = mustRun(t, "score", "--model", mpath, "--json", anom)
	var a itemJSON
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatal(err)
	}
	if got := meanPatchScore(t, l, anom); math.Abs(got-a.Score) > 1e-9*math.Abs(got) {
		t.Errorf("score %v, mean patch score %v", a.Score, got)
	}
	if !a.Anomalous || a.Score <= a.Threshold || len(a.Top) != 3 || a.Windows != 1 {
		t.Errorf("anomalous clip: %+v", a)
	}
	// Its top bins are the largest mean excesses over the baseline.
	_, pf := patchScores(t, l, anom)
	excess := make([]float64, 128)
	for p := 0; p < len(pf)/640; p++ {
		for k := range 128 {
			var s float64
			for fr := range 5 {
				s += float64(pf[p*640+fr*128+k])
			}
			excess[k] += (s/5 - m.BinBaseline[k]) / float64(len(pf)/640)
		}
	}
	best := 0
	for k := range excess {
		if excess[k] > excess[best] {
			best = k
		}
	}
	if a.Top[0].Bin != best || math.Abs(a.Top[0].Score-excess[best]) > 1e-4*math.Abs(excess[best]) {
		t.Errorf("top bin %d (%v), want bin %d (%v)", a.Top[0].Bin, a.Top[0].Score, best, excess[best])
	}
	// The most anomalous frequencies are those of the 3 kHz resonance.
	if a.Top[0].LowHz > 3100 || a.Top[0].HighHz < 2900 {
		t.Errorf("top band %v-%v Hz, the fault rings at 3000 Hz", a.Top[0].LowHz, a.Top[0].HighHz)
	}
	text := mustRun(t, "score", "--model", mpath, test)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 6 {
		t.Fatalf("score printed %d lines:\n%s", len(lines), text)
	}
	// Every faulty clip is flagged (the threshold, a 0.99 quantile of two
	// calibration clips, may flag a healthy one too).
	for _, ln := range lines {
		if strings.Contains(ln, "anomaly_") && !strings.Contains(ln, "anomalous true") || !strings.Contains(ln, "Hz(") {
			t.Errorf("line %q", ln)
		}
	}
	if !strings.HasPrefix(lines[0], filepath.Join(test, "anomaly_id_00_00000000.wav")) {
		t.Errorf("natural order of the folder: first line %q", lines[0])
	}

	// eval: AUC, the DCASE pAUC stated as such, F1 at the threshold, PNGs.
	plots := filepath.Join(t.TempDir(), "plots")
	text = mustRun(t, "eval", "--model", mpath, "--plots", plots, test)
	for _, s := range []string{"ROC AUC            1.0000", "pAUC (FPR <= 0.1)  1.0000", "DCASE definition", "recall 1.0000", "rank 1 of 6", "rank 2 of 6", "rank 3 of 6"} {
		if !strings.Contains(text, s) {
			t.Errorf("eval output lacks %q:\n%s", s, text)
		}
	}
	for _, f := range []string{"roc.png", "hist.png"} {
		checkPNG(t, filepath.Join(plots, f))
	}
	js = mustRun(t, "eval", "--model", mpath, "--json", test)
	var ej evalJSON
	if err := json.Unmarshal([]byte(js), &ej); err != nil {
		t.Fatal(err)
	}
	if ej.Report.N != 6 || ej.Report.Anomalous != 3 || ej.Report.AUC != 1 || len(ej.Items) != 6 || len(ej.Anomalies) != 3 || !strings.Contains(ej.PAUCDef, "DCASE") {
		t.Errorf("eval json %+v", ej.Report)
	}

	// inspect shows it all; --json is the stored metadata.
	text = mustRun(t, "inspect", mpath)
	for _, s := range []string{"machine         fan-00", "kind            dense-ae", "quantile(q=0.99)", "feature hash    " + m.FeatureHash,
		"calibration     n 2", "windows of 1s", "3 of the last 3", "\"code\": 4", "    15  "} {
		if !strings.Contains(text, s) {
			t.Errorf("inspect lacks %q:\n%s", s, text)
		}
	}
	var back model.Meta
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", mpath)), &back); err != nil || back.Version != m.Version || back.Threshold.Value != m.Threshold.Value {
		t.Errorf("inspect --json: %v %+v", err, back.Threshold)
	}
}

// meanPatchScore scores a WAV's patches with the model's scorer directly.
func meanPatchScore(t *testing.T, l *model.Loaded, path string) float64 {
	t.Helper()
	scores, _ := patchScores(t, l, path)
	var sum float64
	for _, v := range scores {
		sum += v
	}
	return sum / float64(len(scores))
}

// patchScores returns the patch and per-feature scores of a WAV, computed
// with the front end and the model's scorer.
func patchScores(t *testing.T, l *model.Loaded, path string) ([]float64, []float32) {
	t.Helper()
	x := readWAV16(t, path)
	ps, err := feature.Patches(l.Meta.Feature, x, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := l.NewScorer()
	d := l.InputDim()
	vals := make([]float32, 0, len(ps)*d)
	for _, p := range ps {
		vals = append(vals, p.Values...)
	}
	scores := make([]float64, len(ps))
	pf := make([]float32, len(vals))
	s.Score(scores, pf, vals, nil, len(ps))
	return scores, pf
}

func readWAV16(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[44:]
	x := make([]float32, len(b)/2)
	for i := range x {
		x[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
	}
	return x
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 200 {
		t.Errorf("%s is %v", path, b)
	}
}

// A run-to-failure sequence of CSV snapshots: the VAE is fitted on the
// first ones and the timeline raises its persistent alarm after the fault
// starts; RMS and kurtosis go through the same analysis.
func TestFitTimelineCSV(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(2, 2))
	const n, faultAt = 40, 30
	var files []string
	for i := range n {
		fault := 0.0
		if i >= faultAt {
			fault = 0.05 * float64(i-faultAt+1)
		}
		p := filepath.Join(dir, fmt.Sprintf("snap_%03d.csv", i))
		writeCSV(t, p, machine(rng, 8000, 0.25, fault))
		files = append(files, p)
	}
	mpath := filepath.Join(t.TempDir(), "b.mhm")
	// First 16 snapshots: 12 fitted, 4 for the threshold.
	mustRun(t, append([]string{"fit", "--machine", "bearing", "--model", "vae", "--sr", "8000", "--channel", "a",
		"--epochs", "20", "--hidden", "32", "--latent", "3", "--samples", "4", "--calibrate-split", "0.25",
		"--threshold", "mean-std", "--persist", "3/3", "--out", mpath}, files[:16]...)...)
	l, err := model.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	m := l.Meta
	// 8 kHz, not 16 kHz audio: the vibration preset scaled to the rate
	// (n_fft 64 at 8 kHz: 125 Hz bins, DC dropped: 32 bins in 2 bands).
	if s := m.Feature.STFT.WithDefaults(); s.NFFT != 64 || s.Hop != 32 || m.Feature.Bins() != 32 || m.Feature.Bands() != 2 || s.Mels != 0 {
		t.Errorf("features %s", describeFeatures(m.Feature))
	}
	if l.Bands() != 2 || m.Score.Type != "log-evidence" || m.Score.Samples != 4 || m.Input.Channel != "a" || m.Input.ChannelName != "a" || m.Input.SourceRate != 8000 {
		t.Errorf("bands %d, score %+v, input %+v", l.Bands(), m.Score, m.Input)
	}
	if m.Threshold.Method != threshold.MeanStd || m.Training.CalibWindows != 4 || len(m.Training.CalibrationFiles) != 4 {
		t.Errorf("threshold %v, calibration %+v", m.Threshold, m.Training)
	}
	plots := filepath.Join(t.TempDir(), "tl")
	text := mustRun(t, "timeline", "--model", mpath, "--plots", plots, "--indicators", "rms,kurtosis", "--interval", "10s", dir)
	var tl timelineJSON
	b, err := os.ReadFile(filepath.Join(plots, "timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tl); err != nil {
		t.Fatal(err)
	}
	// The baseline is found from the model's calibration files.
	if tl.Baseline != [2]int{12, 16} || len(tl.Items) != n || len(tl.Series) != 3 || !tl.TimeKnown {
		t.Fatalf("timeline %+v\n%s", tl.Baseline, text)
	}
	s := tl.Series[0]
	if s.FirstAlarm < faultAt || s.FirstAlarm > faultAt+4 {
		t.Errorf("first persistent alarm at item %d, the fault starts at %d\n%s", s.FirstAlarm, faultAt, text)
	}
	// 3 of 3: the alarm item and the two before it are above.
	for i := s.FirstAlarm - 2; i <= s.FirstAlarm; i++ {
		if !tl.Items[i].Above {
			t.Errorf("item %d not above before the alarm at %d", i, s.FirstAlarm)
		}
	}
	wantMin := float64(n-1-s.FirstAlarm) * 10 / 60
	if math.Abs(s.MinutesBeforeEnd-wantMin) > 1e-9 || math.Abs(s.LifePct-100*float64(s.FirstAlarm)/float64(n-1)) > 1e-9 {
		t.Errorf("alarm at %.2f%% of life, %.3f min before the end; want %.3f min", s.LifePct, s.MinutesBeforeEnd, wantMin)
	}
	// The indicators' thresholds: the model's method on their baseline values.
	for _, sr := range tl.Series[1:] {
		var v []float64
		for _, it := range tl.Items[12:16] {
			v = append(v, it.Indicators[sr.Name])
		}
		want, _ := threshold.Fit(threshold.MeanStd, v, m.Threshold.Param)
		if sr.Threshold.Value != want.Value {
			t.Errorf("%s threshold %v, want %v", sr.Name, sr.Threshold.Value, want.Value)
		}
	}
	if rms := tl.Series[1]; rms.FirstAlarm < faultAt {
		t.Errorf("rms alarm at %d before the fault at %d", rms.FirstAlarm, faultAt)
	}
	for _, f := range []string{"timeline.png", "timeline-rms.png", "timeline-kurtosis.png"} {
		checkPNG(t, filepath.Join(plots, f))
	}
	if !strings.Contains(text, "| model vae |") || !strings.Contains(text, "| kurtosis |") {
		t.Errorf("timeline summary:\n%s", text)
	}
}

// A single recording: the calibration part is the last share of its
// patches, the decision window a tenth of it; segments score separately.
func TestFitSingleFileAndSegments(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 3))
	long := filepath.Join(dir, "healthy.wav")
	writeWAV(t, long, 8000, machine(rng, 8000, 6, 0))
	faulty := filepath.Join(dir, "faulty.wav")
	writeWAV(t, faulty, 8000, machine(rng, 8000, 2, 0.3))
	mpath := filepath.Join(t.TempDir(), "one.mhm")
	mustRun(t, "fit", "--machine", "m", "--model", "sparse-ae", "--epochs", "3", "--quiet", "--out", mpath, long+"@0:0.75")
	l, err := model.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	tr := l.Meta.Training
	// 4.5 s used; the last 20% of its patch positions (0.9 s) calibrate
	// in windows of a tenth of that, rounded down to the ms.
	w := l.Meta.Decision.Window.LengthNs
	if w < 80e6 || w > 90e6 || tr.CalibWindows < 9 || tr.CalibWindows > 12 || len(tr.CalibrationFiles) != 1 || !strings.Contains(tr.CalibrationFiles[0], "@0:0.75[patches ") {
		t.Errorf("window %d ns, calibration %+v", w, tr)
	}
	// Segments of 0.5 s: the rest of the healthy file (1.5 s: 3 items)
	// and the faulty one (4 items), each one line.
	text := mustRun(t, "score", "--model", mpath, "--segment", "500ms", long+"@0.75:", faulty)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 7 || !strings.Contains(lines[0], "healthy.wav[4.500-5.000s]") || !strings.Contains(lines[6], "faulty.wav[1.500-2.000s]") {
		t.Fatalf("segments:\n%s", text)
	}
	for i, ln := range lines {
		if !strings.Contains(ln, "windows above") {
			t.Errorf("a 0.5 s segment holds several %d ms windows: %q", w/1e6, ln)
		}
		if i >= 3 && !strings.Contains(ln, "anomalous true") {
			t.Errorf("faulty segment not flagged: %q", ln)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		verb string
		want []string
	}{
		{"fit", []string{"Usage: train fit --machine ID --model KIND", "-calibrate-split", "-calibrate value", "-decision-window", "-aggregate", "-persist", "-threshold string", "-n-fft", "-mels", "-patch-frames", "-preset", "auto (dcase2020 for 16 kHz WAV", "-channel", "-variable", "-sr", "-score", "-beta", "-warmup", "-sparse-l1", "-noise-sigma", "Examples:"}},
		{"score", []string{"Usage: train score --model MODEL", "-json", "default: as the model was trained"}},
		{"eval", []string{"-labels", "-plots", "-per-file", "McClish", "DCASE's definition"}},
		{"timeline", []string{"-plots", "-indicators", "-baseline", "-interval", "persistent"}},
		{"inspect", []string{"Usage: train inspect [--json] MODEL"}},
	} {
		code, out, errs := run(t, tc.verb, "--help")
		if code != 0 {
			t.Errorf("%s --help: exit %d", tc.verb, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out+errs, w) {
				t.Errorf("%s --help lacks %q", tc.verb, w)
			}
		}
	}
	code, out, _ := run(t)
	if code != 2 || !strings.Contains(out, "fit") || !strings.Contains(out, "timeline") {
		t.Errorf("no verb: exit %d\n%s", code, out)
	}
}

func TestBadInput(t *testing.T) {
	train, test := dcaseSet(t)
	dir := t.TempDir()
	notWAV := filepath.Join(dir, "broken.wav")
	os.WriteFile(notWAV, []byte("this is text, not audio"), 0o644)
	rate8k := filepath.Join(dir, "normal_8k.wav")
	writeWAV(t, rate8k, 8000, machine(rand.New(rand.NewPCG(4, 4)), 8000, 1, 0))
	unlabelled := filepath.Join(dir, "clip.wav")
	writeWAV(t, unlabelled, 16000, machine(rand.New(rand.NewPCG(5, 5)), 16000, 1, 0))
	mpath := fitDCASE(t, train[:5], "--epochs", "2")
	corrupt := filepath.Join(dir, "corrupt.mhm")
	b, _ := os.ReadFile(mpath)
	b[len(b)/2] ^= 1
	os.WriteFile(corrupt, b, 0o644)

	fit := func(extra ...string) []string {
		return append([]string{"fit", "--machine", "m", "--epochs", "1", "--out", filepath.Join(dir, "x.mhm")}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no machine", []string{"fit", "--out", "x", train[0]}, 2, []string{"--machine and --out are required", "train fit --help"}},
		{"unknown kind", fit("--model", "svm", train[0]), 2, []string{`--model "svm"`, "dense-ae"}},
		{"no paths", fit(), 2, []string{"no recordings given"}},
		{"missing file", fit(filepath.Join(dir, "nope.wav")), 1, []string{"nope.wav", "no such file"}},
		{"not a wav", fit(notWAV), 1, []string{"broken.wav", "not a RIFF/WAVE file"}},
		{"mixed rates", fit(train[0], train[1], rate8k), 1, []string{"normal_8k.wav", "8000 Hz", "16000 Hz", "resample"}},
		{"channel out of range", fit("--channel", "3", train[0], train[1]), 2, []string{"--channel 3", "1 channel"}},
		{"bad range", fit(train[0] + "@0.9:0.1"), 2, []string{"@0.9:0.1", "FROM < TO"}},
		{"bad persist", fit("--persist", "4/2", train[0]), 2, []string{`--persist "4/2"`}},
		{"bad aggregate", fit("--aggregate", "median", train[0]), 2, []string{"--aggregate", "median"}},
		{"bad threshold", fit("--threshold", "otsu", train[0]), 2, []string{"--threshold"}},
		{"bad split", fit("--calibrate-split", "1", train[0]), 2, []string{"--calibrate-split 1"}},
		{"bad segment", fit("--segment", "-1s", train[0]), 2, []string{"-segment", "negative"}},
		{"clip too short for a patch", fit("--patch-frames", "40", train[0], train[1]), 1, []string{"makes no patch of 40 frames"}},
		{"wrong rate for the model", []string{"score", "--model", mpath, rate8k}, 1, []string{"normal_8k.wav", "8000 Hz", "16000 Hz", "model fan-00@", "resample", "fit a model"}},
		{"corrupt model", []string{"score", "--model", corrupt, train[0]}, 1, []string{"corrupt.mhm", "checksum mismatch"}},
		{"missing model", []string{"score", "--model", filepath.Join(dir, "none.mhm"), train[0]}, 1, []string{"none.mhm"}},
		{"no model flag", []string{"score", train[0]}, 2, []string{"--model is required"}},
		{"unlabelled", []string{"eval", "--model", mpath, test, unlabelled}, 1, []string{"clip.wav", "neither normal nor anomaly", "--labels"}},
		{"one class", []string{"eval", "--model", mpath, train[0], train[1]}, 1, []string{"normal and anomalous"}},
		{"timeline without plots", []string{"timeline", "--model", mpath, train[0]}, 2, []string{"--plots is required"}},
		{"indicators without baseline", []string{"timeline", "--model", mpath, "--plots", dir, "--indicators", "rms", train[0], train[1]}, 2, []string{"--baseline"}},
		{"unknown indicator", []string{"timeline", "--model", mpath, "--plots", dir, "--indicators", "energy", train[0]}, 2, []string{"energy"}},
		{"inspect two", []string{"inspect", mpath, mpath}, 2, []string{"exactly one model"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestParsers(t *testing.T) {
	for s, want := range map[string][2]int{"3/3": {3, 3}, "2/5": {2, 5}, "4": {4, 4}} {
		c, err := parsePersist(s)
		if err != nil || c.K != want[0] || c.N != want[1] {
			t.Errorf("parsePersist(%q) = %+v, %v", s, c, err)
		}
	}
	for _, s := range []string{"0/3", "5/3", "a/b", "", "3/"} {
		if _, err := parsePersist(s); err == nil {
			t.Errorf("parsePersist(%q) succeeded", s)
		}
	}
	for s, want := range map[string]float64{"0.2": 0.2, "200ms": 0.2, "1.5s": 1.5, "2": 2} {
		d, err := parseDuration(s)
		if err != nil || math.Abs(d.Seconds()-want) > 1e-12 {
			t.Errorf("parseDuration(%q) = %v, %v", s, d, err)
		}
	}
	dir := t.TempDir()
	// A file whose name contains @ (as CWRU's OR007@12 files) is literal.
	at := filepath.Join(dir, "OR007@12_0_161.wav")
	os.WriteFile(at, nil, 0o644)
	src, err := parseSources([]string{at, at + "@0.8:", at + "@:0.5"})
	if err != nil || len(src) != 3 || src[0].Path != at || src[0].From != 0 || src[0].To != 1 ||
		src[1].Path != at || src[1].From != 0.8 || src[1].To != 1 || src[2].To != 0.5 {
		t.Errorf("parseSources: %+v, %v", src, err)
	}
	if src[1].String() != at+"@0.8:1" {
		t.Errorf("String %q", src[1].String())
	}
	// On a folder or glob the range selects files.
	for i := range 10 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("acc_%05d.csv", i+1)), nil, 0o644)
	}
	for _, tc := range []struct {
		arg   string
		first string
		n     int
	}{
		{dir + "@0:0.2", "OR007@12_0_161.wav", 2}, // 11 files in natural order, the .wav first ("O" < "a")
		{filepath.Join(dir, "acc_*.csv") + "@0.8:", "acc_00009.csv", 2},
		{filepath.Join(dir, "acc_*.csv") + "@:0.15", "acc_00001.csv", 2},
	} {
		src, err := parseSources([]string{tc.arg})
		if err != nil || len(src) != tc.n || filepath.Base(src[0].Path) != tc.first || src[0].From != 0 || src[0].To != 1 {
			t.Errorf("parseSources(%s) = %+v, %v", tc.arg, src, err)
		}
	}
	if _, err := parseSources([]string{filepath.Join(dir, "acc_*.csv") + "@0.5:0.52"}); err == nil {
		t.Error("a range selecting no file succeeded")
	}
}

// On a terminal the progress is one bar redrawn in place.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false)
	p.tty, p.width = true, 100
	p.Batch(1, 5, 10)
	if err := p.Epoch(nn.EpochStats{Epoch: 1, Epochs: 4, TrainLoss: 2.5, ValLoss: 3.25, Elapsed: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	p.Done()
	s := b.String()
	for _, w := range []string{"\r[", "epoch 1/4", "loss 2.5", "val 3.25", "left ", "\x1b[K"} {
		if !strings.Contains(s, w) {
			t.Errorf("bar %q lacks %q", s, w)
		}
	}
	if strings.Contains(s, "\n") {
		t.Errorf("the bar printed a newline: %q", s)
	}
	if got := timeLeft(2*time.Second, 1, 4); got != 6*time.Second {
		t.Errorf("time left %v, want 6s", got)
	}
	// Not a terminal: plain lines; quiet: nothing.
	b.Reset()
	newProgress(&b, false).Epoch(nn.EpochStats{Epoch: 2, Epochs: 10, TrainLoss: 1, ValLoss: math.NaN(), Elapsed: time.Second})
	if got := b.String(); got != "epoch  2/10  train 1  elapsed 1s  left 4s\n" {
		t.Errorf("log line %q", got)
	}
	b.Reset()
	newProgress(&b, true).Epoch(nn.EpochStats{Epoch: 2, Epochs: 10})
	if b.Len() != 0 {
		t.Errorf("quiet printed %q", b.String())
	}
}
