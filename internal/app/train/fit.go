package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/vae"
)

// FitVerb is `train fit`.
func FitVerb() cli.Verb {
	return cli.Verb{Name: "fit", Summary: "train a model on recordings of a healthy machine and learn its threshold", Run: runFit}
}

const fitHelp = `Trains a model of one machine on recordings of it in good health, learns the
anomaly threshold on held-out healthy data, and writes everything a detector
needs into one artifact file (docs/artifact.md).

PATHS are files, folders or globs (WAV, FEMTO acc_*.csv, MAT, CSV), in the
order that matters: the calibration data is taken from the END of that list
(the last --calibrate-split of the files, or of a single file's patches),
never shuffled into training. A PATH may end with @FROM:TO (fractions): for
a file, that part of the recording (normal.mat@0:0.8 is its first 80%); for a
folder or glob, that share of its files (Bearing2_1@0:0.2 is the first 20% of
the snapshots, in natural order).

Features are computed with the stream's front end (pkg/feature). --preset auto
picks dcase2020 for 16 kHz WAV audio and otherwise the vibration preset with
the FFT scaled to the sample rate (bins of about 100 Hz: n_fft 256 at 25.6 kHz,
512 at 48 kHz, hop n_fft/2, DC dropped); any feature flag given overrides it.

The threshold is learned on calibration windows aggregated exactly as the
detector aggregates them (--aggregate over --decision-window). By default the
window is one item: one file, or one --segment window (the longest one, so
every item is one window); for a single recording it is 1 s, or a tenth of
the calibration part if that is shorter.

Examples:
  train fit --machine fan-00 --model dense-ae --out fan-00.mhm data/dcase/train/
  train fit --machine b2_1 --model vae --channel horizontal --calibrate-split 0.25 --out b2_1.mhm femto/Bearing2_1@0:0.2
  train fit --machine cwru --model dense-ae --variable _DE_time --segment 0.2s \
            --calibrate-split 0.25 --out cwru.mhm normal_0_97.mat@0:0.8`

// fitFlags holds the command line of `train fit`.
type fitFlags struct {
	machine, sensor, kind, out string
	epochs, batch, latent      int
	hidden                     string
	lr                         float64
	seed                       uint64
	patience                   int
	valSplit                   float64
	standardize                bool
	sparseL1, sparseRho        float64
	sparseBeta                 float64
	noiseSigma, maskProb       float64
	score                      string
	samples                    int
	beta, warmup               float64
	trainSamples               int
	bandTag                    bool
	calSplit                   float64
	calibrate                  stringList
	method                     string
	methodParam                float64
	window, windowHop          durationFlag
	aggregate                  string
	persist                    string
	quiet                      bool
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// hyper is the artifact's Meta.Hyper for models fitted here.
type hyper struct {
	AE  *ae.Config  `json:"ae,omitempty"`
	VAE *vae.Config `json:"vae,omitempty"`
	Fit fitSettings `json:"fit"`
}

// fitSettings are the training-loop settings.
type fitSettings struct {
	Epochs       int     `json:"epochs"`
	Batch        int     `json:"batch"`
	LR           float64 `json:"lr"`
	Seed         uint64  `json:"seed"`
	ValSplit     float64 `json:"val_split"`
	Patience     int     `json:"patience,omitempty"`
	Beta         float64 `json:"beta,omitempty"`
	WarmupEpochs float64 `json:"warmup_epochs,omitempty"`
	TrainSamples int     `json:"train_samples,omitempty"`
}

// span is the patches [Lo, Hi) of an item.
type span struct {
	it     *item
	lo, hi int
}

func runFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("train fit", "train fit --machine ID --model KIND [flags] --out MODEL PATHS...", fitHelp, stderr)
	var f fitFlags
	fs.StringVar(&f.machine, "machine", "", "machine ID the model is for (required)")
	fs.StringVar(&f.sensor, "sensor", "", "sensor ID, when the model serves one sensor of the machine")
	fs.StringVar(&f.kind, "model", model.DenseAE, "model kind: "+strings.Join(model.Kinds, ", "))
	fs.StringVar(&f.out, "out", "", "artifact file to write (required)")
	fs.IntVar(&f.epochs, "epochs", 0, "training epochs; 0: 100 (the DCASE 2020 baseline's)")
	fs.IntVar(&f.batch, "batch", 0, "minibatch size; 0: 512 for the autoencoders (DCASE baseline), 128 for the VAE")
	fs.Float64Var(&f.lr, "lr", 1e-3, "Adam learning rate")
	fs.IntVar(&f.latent, "latent", 0, "code (latent) size; 0: the kind's default (dense/denoising 8, sparse 64, caes 32, vae 8)")
	fs.StringVar(&f.hidden, "hidden", "", "hidden layer widths, comma-separated (e.g. 128,128,128,128); empty: the kind's default")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the weights, the shuffling and the noise draws (runs are reproducible)")
	fs.IntVar(&f.patience, "patience", 0, "stop after this many epochs without a better validation loss and keep the best epoch; 0: train all epochs")
	fs.Float64Var(&f.valSplit, "val-split", 0.1, "share of the training patches (the last ones, not shuffled) held out for the validation loss; 0: none")
	fs.BoolVar(&f.standardize, "standardize", true, "standardise each input feature with its training mean and deviation (not for dense-ae on the dcase2020 preset, which trains on raw log-mels like the baseline, unless given)")
	fs.Float64Var(&f.sparseL1, "sparse-l1", 0, "sparse-ae: weight of the L1 penalty on the code")
	fs.Float64Var(&f.sparseRho, "sparse-rho", 0, "sparse-ae: target mean code activation of the KL penalty (default 0.05)")
	fs.Float64Var(&f.sparseBeta, "sparse-beta", 0, "sparse-ae: weight of the KL penalty (default 0.1)")
	fs.Float64Var(&f.noiseSigma, "noise-sigma", 0, "denoising-ae: deviation of the Gaussian input noise, standardised units (default 0.5)")
	fs.Float64Var(&f.maskProb, "mask-prob", 0, "denoising-ae: probability of masking an input value")
	fs.StringVar(&f.score, "score", "log-evidence", "vae: anomaly score: log-evidence, elbo, recon-prob or harmonic")
	fs.IntVar(&f.samples, "samples", 16, "vae: Monte-Carlo samples per patch for the score (K or L)")
	fs.Float64Var(&f.beta, "beta", 1, "vae: weight of the KL term (beta-VAE)")
	fs.Float64Var(&f.warmup, "warmup", 0, "vae: epochs of linear KL warm-up; 0: none")
	fs.IntVar(&f.trainSamples, "train-samples", 1, "vae: samples of z per patch in a training step")
	fs.BoolVar(&f.bandTag, "band-tag", true, "vae: condition the model on the patch's frequency band when the features have several bands")
	fs.Float64Var(&f.calSplit, "calibrate-split", 0.2, "share of the data, taken from the end, held out to learn the threshold")
	fs.Var(&f.calibrate, "calibrate", "calibration recording (repeatable; files, folders, globs): learn the threshold on these instead of a split")
	fs.StringVar(&f.method, "threshold", "quantile", "threshold method: quantile, gamma or mean-std")
	fs.Float64Var(&f.methodParam, "threshold-param", 0, "its parameter: q for quantile and gamma (default 0.99), k for mean-std (default 3)")
	fs.Var(&f.window, "decision-window", "length of the detector's decision window (e.g. 10s); 0: one item (see above)")
	fs.Var(&f.windowHop, "decision-hop", "distance between decision windows; 0: the window length (tumbling)")
	fs.StringVar(&f.aggregate, "aggregate", "mean", "how a window's patch scores become its score: mean, max, topK (e.g. top5) or topP% (e.g. top10%)")
	fs.StringVar(&f.persist, "persist", "3/3", "persistence of an alarm: K/N = K of the last N windows above the threshold")
	fs.BoolVar(&f.quiet, "quiet", false, "print no progress")
	in := addInputFlags(fs, "")
	ff := cli.AddFeatureFlags(fs)
	fs.Lookup("preset").DefValue = "auto"
	ff.Preset = "auto"
	fs.Lookup("preset").Usage = "front-end preset the other feature flags start from: auto (dcase2020 for 16 kHz WAV, else vibration scaled to the rate), " + strings.TrimPrefix(fs.Lookup("preset").Usage, "front-end preset the other feature flags start from: ")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.machine == "" || f.out == "" {
		return fmt.Errorf("%w: --machine and --out are required", cli.ErrUsage)
	}
	if err := cli.OneOf("model", f.kind, model.Kinds...); err != nil {
		return err
	}
	method, err := threshold.ParseMethod(f.method)
	if err != nil {
		return fmt.Errorf("%w: --threshold: %v", cli.ErrUsage, err)
	}
	agg, err := threshold.ParseAggregation(f.aggregate)
	if err != nil {
		return fmt.Errorf("%w: --aggregate: %v", cli.ErrUsage, err)
	}
	persist, err := parsePersist(f.persist)
	if err != nil {
		return err
	}
	if len(f.calibrate) == 0 && !(f.calSplit > 0 && f.calSplit < 1) {
		return fmt.Errorf("%w: --calibrate-split %g: want a share in (0, 1), or give --calibrate files", cli.ErrUsage, f.calSplit)
	}
	if !(f.valSplit >= 0 && f.valSplit < 1) {
		return fmt.Errorf("%w: --val-split %g: want [0, 1)", cli.ErrUsage, f.valSplit)
	}
	hidden, err := parseInts(f.hidden)
	if err != nil {
		return fmt.Errorf("%w: --hidden: %v", cli.ErrUsage, err)
	}
	srcs, err := parseSources(fs.Args())
	if err != nil {
		return err
	}
	var calSrcs []source
	if len(f.calibrate) > 0 {
		if calSrcs, err = parseSources(f.calibrate); err != nil {
			return err
		}
	}

	prog := newProgress(stderr, f.quiet)
	started := time.Now()
	inp := in.resolve(nil)
	rd := &reader{in: inp, config: func(rate float64, path string) (feature.Config, error) {
		return resolveFeatures(fs, ff, rate, path)
	}}
	items, err := rd.readAll(ctx, srcs)
	if err != nil {
		return err
	}
	var calItems []*item
	if len(calSrcs) > 0 {
		if calItems, err = rd.readAll(ctx, calSrcs); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cfg := rd.cfg
	inp.ChannelName = rd.channelName

	// Split: calibration from the end, never shuffled into training.
	var trainSp, calSp []span
	switch {
	case len(calItems) > 0:
		trainSp, calSp = spans(items), spans(calItems)
	case len(items) >= 2:
		k := int(math.Round(f.calSplit * float64(len(items))))
		k = min(max(k, 1), len(items)-1)
		trainSp, calSp = spans(items[:len(items)-k]), spans(items[len(items)-k:])
	default:
		it := items[0]
		cut := splitPatches(it, f.calSplit)
		if cut == 0 || cut == it.N {
			return fmt.Errorf("%s: %d patch positions are too few to hold out %g of them for calibration", it.Name(), positions(it), f.calSplit)
		}
		trainSp, calSp = []span{{it, 0, cut}}, []span{{it, cut, it.N}}
	}
	x, bands, n := gather(trainSp, rd.dim)
	prog.logf("fit: %d recordings (%d items) -> %d training patches of %d values, %d calibration items; features %s",
		len(srcs)+len(calSrcs), len(items)+len(calItems), n, rd.dim, len(calSp), describeFeatures(cfg))

	// Train.
	kind := f.kind
	set := cli.Explicit(fs.FlagSet)
	dcase := cfg.Hash() == feature.DCASE2020().Hash()
	settings := fitSettings{Epochs: f.epochs, Batch: f.batch, LR: f.lr, Seed: f.seed, ValSplit: f.valSplit, Patience: f.patience}
	if settings.Epochs <= 0 {
		settings.Epochs = 100
	}
	var hyp hyper
	var weights []byte
	var hist *nn.History
	var params int
	spec := model.ScoreSpec{Type: model.ScoreMSE}
	if k, ok := model.AEKind(kind); ok {
		var c ae.Config
		if dcase && k == ae.Dense {
			c = ae.DCASE2020()
		} else {
			c = ae.Defaults(k, cfg.Patch.WithDefaults().Frames, rd.dim/cfg.Patch.WithDefaults().Frames)
		}
		c.Seed, c.LearningRate = f.seed, f.lr
		if set["standardize"] || !(dcase && k == ae.Dense) {
			c.NoStandardize = !f.standardize
		}
		if f.latent > 0 {
			c.Code = f.latent
		}
		if hidden != nil {
			c.Hidden = hidden
		}
		if set["sparse-l1"] {
			c.Sparsity.L1 = f.sparseL1
		}
		if set["sparse-rho"] {
			c.Sparsity.Rho = f.sparseRho
		}
		if set["sparse-beta"] {
			c.Sparsity.Beta = f.sparseBeta
		}
		if set["noise-sigma"] {
			c.Corruption.Sigma = f.noiseSigma
		}
		if set["mask-prob"] {
			c.Corruption.MaskProb = f.maskProb
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("%w: %v", cli.ErrUsage, err)
		}
		if settings.Batch <= 0 {
			settings.Batch = 512
		}
		fc := &nn.FitConfig{Epochs: settings.Epochs, BatchSize: settings.Batch, Seed: f.seed, ValFraction: f.valSplit,
			Patience: f.patience, RestoreBest: f.patience > 0, OnBatch: prog.Batch}
		m, h, err := ae.Train(c, x, n, rd.dim, fc, ctxEpoch(ctx, prog.Epoch))
		prog.Done()
		if err != nil {
			return trainErr(err)
		}
		if weights, err = m.MarshalBinary(); err != nil {
			return err
		}
		rc := m.Config()
		hyp.AE, hist, params = &rc, h, m.NumParams()
	} else {
		var c vae.Config
		if dcase {
			c = vae.DCASE()
		} else {
			c = vae.Config{T: cfg.Patch.WithDefaults().Frames, F: rd.dim / cfg.Patch.WithDefaults().Frames, Latent: 8, Hidden: []int{128, 64}, BatchNorm: true}
		}
		if f.bandTag && cfg.Bands() > 1 {
			c.Bands = cfg.Bands()
		}
		c.Seed = f.seed
		c.NoStandardize = !f.standardize
		if f.latent > 0 {
			c.Latent = f.latent
		}
		if hidden != nil {
			c.Hidden = hidden
		}
		st, err := vae.ParseScoreType(f.score)
		if err != nil {
			return fmt.Errorf("%w: --score: %v", cli.ErrUsage, err)
		}
		if f.samples < 1 {
			return fmt.Errorf("%w: --samples %d: want >= 1", cli.ErrUsage, f.samples)
		}
		spec = model.ScoreSpec{Type: st.String(), Samples: f.samples, Seed: f.seed}
		if settings.Batch <= 0 {
			settings.Batch = 128
		}
		settings.Beta, settings.WarmupEpochs, settings.TrainSamples = f.beta, f.warmup, f.trainSamples
		m, err := vae.New(c)
		if err != nil {
			return fmt.Errorf("%w: %v", cli.ErrUsage, err)
		}
		tc := &vae.TrainConfig{Epochs: settings.Epochs, BatchSize: settings.Batch, LR: f.lr, Seed: f.seed, Beta: f.beta,
			WarmupEpochs: f.warmup, Samples: f.trainSamples, ValFraction: f.valSplit, Patience: f.patience,
			RestoreBest: f.patience > 0, OnEpoch: ctxEpoch(ctx, prog.Epoch)}
		if c.Bands == 0 {
			bands = nil
		}
		h, err := m.Train(x, bands, n, tc)
		prog.Done()
		if err != nil {
			return trainErr(err)
		}
		if weights, err = m.MarshalBinary(); err != nil {
			return err
		}
		rc := m.Config()
		hyp.VAE, hist, params = &rc, h, nn.NumParams(m.Params())
	}
	trained := time.Since(started)
	hyp.Fit = settings
	hj, err := json.Marshal(hyp)
	if err != nil {
		return err
	}

	// The artifact, opened as a detector opens it, scores the calibration
	// data: the threshold is learned on exactly the detector's scores.
	win := time.Duration(f.window)
	if win == 0 {
		win = defaultWindow(append(slices.Clone(trainSp), calSp...), calSp)
	}
	a := &model.Artifact{
		Meta: model.Meta{
			Machine: f.machine, Sensor: f.sensor, Kind: kind, Hyper: hj, Feature: cfg, Score: spec,
			Decision: model.Decision{
				Window:      threshold.WindowConfig{LengthNs: int64(win), HopNs: int64(f.windowHop), Aggregation: agg, Features: cfg.Bins(), TopFeatures: 3},
				Persistence: persist,
			},
			Input: &inp, Created: time.Now().UTC().Truncate(time.Second), Tool: toolName(),
		},
		Weights: weights,
	}
	if err := validateWindow(a.Meta.Decision.Window); err != nil {
		return err
	}
	l, err := model.Open(a)
	if err != nil {
		return fmt.Errorf("the trained model does not open: %w", err)
	}
	eng := newEngine(l)
	eng.collectBaseline()
	var calScores []float64
	calPatches := 0
	for _, s := range calSp {
		r := eng.score(s.it, s.lo, s.hi)
		for _, w := range r.Windows {
			calScores = append(calScores, w.Score)
		}
		calPatches += s.hi - s.lo
	}
	th, err := threshold.Fit(method, calScores, f.methodParam)
	if err != nil {
		return fmt.Errorf("learning the threshold on %d calibration windows: %w", len(calScores), err)
	}
	m := &a.Meta
	m.Threshold = th
	m.BinBaseline = eng.Baseline()
	m.Training = model.Training{
		Files: sourceNames(srcs), CalibrationFiles: sourceNames(calSrcs), Patches: n, CalibPatches: calPatches,
		CalibWindows: len(calScores), Epochs: len(hist.TrainLoss), BestEpoch: hist.BestEpoch,
		Seconds: trained.Seconds(), Seed: f.seed, History: history(hist),
	}
	if len(calSrcs) == 0 {
		m.Training.CalibrationFiles = calibrationNames(calSp, len(items) == 1)
		m.Training.Files = trainingNames(trainSp, len(items) == 1)
	}
	if err := a.WriteFile(f.out); err != nil {
		return err
	}
	last := len(hist.TrainLoss) - 1
	val := ""
	if len(hist.ValLoss) > 0 {
		kept := "the last epoch is kept"
		if hist.Restored {
			kept = "that epoch is kept"
		}
		val = fmt.Sprintf(", validation %.6g (lowest %.6g at epoch %d; %s)", hist.ValLoss[last], hist.ValLoss[max(hist.BestEpoch, 1)-1], hist.BestEpoch, kept)
	}
	fmt.Fprintf(stdout, "trained %s (%d parameters) for %d epochs in %s: loss %.6g -> %.6g%s\n",
		kind, params, len(hist.TrainLoss), round(trained), hist.TrainLoss[0], hist.TrainLoss[last], val)
	fmt.Fprintf(stdout, "threshold %s on %d calibration windows (%s of %s, %d patches)\n",
		th, len(calScores), agg, time.Duration(a.Meta.Decision.Window.LengthNs), calPatches)
	fmt.Fprintf(stdout, "wrote %s: %s, features %s, total %s\n", f.out, a.Meta.Version, cfg.Hash()[:12], round(time.Since(started)))
	return nil
}

// resolveFeatures turns the feature flags into the configuration for data
// at rate Hz read from path (the first recording).
func resolveFeatures(fs *cli.FlagSet, ff *cli.FeatureFlags, rate float64, path string) (feature.Config, error) {
	if ff.Preset == "auto" {
		ext := strings.ToLower(filepath.Ext(path))
		if (ext == ".wav" || ext == ".wave") && rate == 16000 {
			ff.Preset = cli.PresetDCASE
		} else {
			ff.Preset = cli.PresetVibration
			set := cli.Explicit(fs.FlagSet)
			nfft := 256 * math.Pow(2, math.Round(math.Log2(rate/25600)))
			nfft = min(max(nfft, 32), 8192)
			if !set["n-fft"] {
				fs.Set("n-fft", strconv.Itoa(int(nfft)))
				if !set["hop"] {
					fs.Set("hop", strconv.Itoa(int(nfft)/2))
				}
				if !set["fmin"] {
					fs.Set("fmin", strconv.FormatFloat(rate/nfft, 'g', -1, 64))
				}
			}
		}
	}
	return ff.Config(rate)
}

func spans(items []*item) []span {
	out := make([]span, len(items))
	for i, it := range items {
		out[i] = span{it, 0, it.N}
	}
	return out
}

// positions returns the number of patch positions (distinct start times).
func positions(it *item) int {
	p := 0
	for i := range it.N {
		if i == 0 || it.TimesNs[i] != it.TimesNs[i-1] {
			p++
		}
	}
	return p
}

// splitPatches returns the index of the first patch of the last share of
// a single item's patch positions (all bands of a position stay together).
func splitPatches(it *item, share float64) int {
	p := positions(it)
	keep := int(math.Round((1 - share) * float64(p)))
	pos := 0
	for i := range it.N {
		if i > 0 && it.TimesNs[i] != it.TimesNs[i-1] {
			pos++
		}
		if pos == keep {
			return i
		}
	}
	return it.N
}

// gather concatenates the patches of spans.
func gather(sp []span, dim int) (x []float32, bands []int, n int) {
	for _, s := range sp {
		x = append(x, s.it.Values[s.lo*dim:s.hi*dim]...)
		bands = append(bands, s.it.Bands[s.lo:s.hi]...)
		n += s.hi - s.lo
	}
	return x, bands, n
}

// defaultWindow is the decision window when none is given: the longest
// item when there are several, so that each is one window; for a single
// recording 1 s, or a tenth of its calibration part when that is shorter
// (so the threshold sees about ten windows or more).
func defaultWindow(all, cal []span) time.Duration {
	if len(all) > 1 && all[0].it != all[len(all)-1].it {
		var longest float64
		for _, s := range all {
			longest = max(longest, s.it.Seconds)
		}
		return time.Duration(math.Ceil(longest*1e3)) * time.Millisecond
	}
	c := cal[0]
	span := float64(c.it.TimesNs[c.hi-1]-c.it.TimesNs[c.lo]) * 1e-9
	w := min(1, span/10)
	return max(time.Duration(w*1e3)*time.Millisecond, time.Millisecond)
}

func validateWindow(w threshold.WindowConfig) error {
	if w.HopNs < 0 || w.HopNs > w.LengthNs {
		return fmt.Errorf("%w: --decision-hop %v must not exceed --decision-window %v", cli.ErrUsage, time.Duration(w.HopNs), time.Duration(w.LengthNs))
	}
	return nil
}

// parsePersist parses K/N (or K, meaning K/K).
func parsePersist(s string) (threshold.PersistenceConfig, error) {
	var c threshold.PersistenceConfig
	ks, ns, found := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n := k
	var err2 error
	if found {
		n, err2 = strconv.Atoi(ns)
	}
	c.K, c.N = k, n
	if err1 != nil || err2 != nil || c.Validate() != nil || k < 1 {
		return c, fmt.Errorf("%w: --persist %q: want K/N with 1 <= K <= N, e.g. 3/3 or 2/5", cli.ErrUsage, s)
	}
	return c, nil
}

func parseInts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive width", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// ctxEpoch wraps an epoch callback so that a cancelled context (Ctrl-C)
// stops training with the context's error.
func ctxEpoch(ctx context.Context, fn func(nn.EpochStats) error) func(nn.EpochStats) error {
	return func(e nn.EpochStats) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(e)
	}
}

func trainErr(err error) error {
	if errors.Is(err, nn.ErrNonFinite) {
		return fmt.Errorf("training diverged (%w): lower --lr or standardise the input", err)
	}
	return fmt.Errorf("training: %w", err)
}

func history(h *nn.History) []model.Epoch {
	out := make([]model.Epoch, len(h.TrainLoss))
	per := h.Elapsed.Seconds() / float64(max(1, len(h.TrainLoss)))
	for i, l := range h.TrainLoss {
		out[i] = model.Epoch{Epoch: i + 1, TrainLoss: l, Seconds: per * float64(i+1)}
		if i < len(h.ValLoss) {
			out[i].ValLoss = h.ValLoss[i]
		}
	}
	return out
}

func sourceNames(srcs []source) []string {
	var out []string
	for _, s := range srcs {
		out = append(out, absSource(s))
	}
	return out
}

func absSource(s source) string {
	s.Path = absPath(s.Path)
	return s.String()
}

// calibrationNames lists the recordings of calibration spans; for a single
// recording split by patches, its name with the share held out.
func calibrationNames(sp []span, single bool) []string {
	var out []string
	for _, s := range sp {
		name := absSource(s.it.Source)
		if s.it.Segment >= 0 {
			name = fmt.Sprintf("%s[%.3f-%.3fs]", absPath(s.it.Source.Path), s.it.Offset, s.it.Offset+s.it.Seconds)
		}
		if single {
			name = fmt.Sprintf("%s[patches %d-%d]", name, s.lo, s.hi)
		}
		if len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	return out
}

func trainingNames(sp []span, single bool) []string { return calibrationNames(sp, single) }

func describeFeatures(c feature.Config) string {
	s := c.STFT.WithDefaults()
	p := c.Patch.WithDefaults()
	f := p.Bins
	if f == 0 {
		f = c.Bins()
	}
	spec := fmt.Sprintf("%d linear bins", c.Bins())
	if s.Mels > 0 {
		spec = fmt.Sprintf("%d mels", s.Mels)
	}
	return fmt.Sprintf("%g Hz, n_fft %d, hop %d, %s, %s; patches %d frames x %d bins (%d bands, hop %d frames)",
		c.SampleRate, s.NFFT, s.Hop, spec, s.Log, p.Frames, f, c.Bands(), p.Hop)
}
