package model

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/vae"
)

// ScoreMSE is the score type of the autoencoder kinds: the mean squared
// reconstruction error of a patch (ae.Scorer).
const ScoreMSE = "mse"

// Scorer scores patches; higher is more anomalous. Not safe for concurrent
// use: make one per goroutine with Loaded.NewScorer.
type Scorer interface {
	// InputDim returns the values per patch, T·F of the model's feature
	// configuration.
	InputDim() int
	// Score writes the anomaly score of each of the n patches stored
	// row-major in x (n×InputDim, frame-major patch values) into
	// scores[:n]; when perFeature is non-nil (len ≥ n×InputDim) it also
	// writes each value's contribution (autoencoders: its squared
	// reconstruction error; VAE: its expected negative log-likelihood).
	// bands[i] is patch i's band index (its patch.Tag band); it is read
	// only for a band-tagged model (Loaded.Bands() > 0) and may be nil
	// otherwise. It allocates nothing after the first call with a batch
	// this large; it panics if a slice is too short, or a band index is
	// missing or out of range for a band-tagged model.
	Score(scores []float64, perFeature []float32, x []float32, bands []int, n int)
}

// Loaded is an Artifact with its weights decoded into a network ready to
// score. It is immutable after Open: any number of goroutines may call
// NewScorer and use their own Scorer concurrently.
type Loaded struct {
	*Artifact
	ae    *ae.Model       // the autoencoder kinds
	vae   *vae.Model      // kind VAE
	score vae.ScoreConfig // kind VAE: the estimator Meta.Score describes
}

// Open decodes the weights of a's kind (ae.Unmarshal for dense-ae, caes,
// sparse-ae and denoising-ae; vae.Unmarshal for vae) and checks that they
// fit the artifact: the network's kind is the Meta's, BinBaseline is empty
// or has one value per spectrogram bin, its input size is the
// patch size of Meta.Feature (T·F), a band-tagged VAE has as many bands as
// the features, and Meta.Score names a score the kind can compute
// ("mse" or empty for the autoencoders; a vae.ScoreType name or empty for
// the VAE, whose samples, burn-in, thin and seed are taken from it).
// Errors wrap ErrFormat (weights that do not decode, a bad score
// specification), ErrKind or ErrMismatch (weights and Meta disagree), and
// the package error of the decoder (ae.ErrFormat, ae.ErrVersion,
// vae.ErrFormat). It allocates the network.
func Open(a *Artifact) (*Loaded, error) {
	m := &a.Meta
	if !validKind(m.Kind) {
		return nil, fmt.Errorf("%w %q", ErrKind, m.Kind)
	}
	if err := m.Feature.Validate(); err != nil {
		return nil, fmt.Errorf("%w: feature configuration: %w", ErrFormat, err)
	}
	want := m.Feature.Dim()
	if nb := len(m.BinBaseline); nb != 0 && nb != m.Feature.Bins() {
		return nil, fmt.Errorf("%w: bin baseline of %d values, the features have %d bins", ErrFormat, nb, m.Feature.Bins())
	}
	l := &Loaded{Artifact: a}
	var dim int
	switch m.Kind {
	case VAE:
		v, err := vae.Unmarshal(a.Weights)
		if err != nil {
			return nil, fmt.Errorf("%w: %s weights: %w", ErrFormat, m.Kind, err)
		}
		if b := v.Bands(); b > 0 && b != m.Feature.Bands() {
			return nil, fmt.Errorf("%w: the VAE is tagged with %d bands, the features have %d", ErrMismatch, b, m.Feature.Bands())
		}
		sc, err := vaeScoreConfig(m.Score)
		if err != nil {
			return nil, err
		}
		if _, err := v.NewScorer(sc); err != nil {
			return nil, fmt.Errorf("%w: score %+v: %w", ErrFormat, m.Score, err)
		}
		l.vae, l.score, dim = v, sc, v.InputDim()
	default:
		am, err := ae.Unmarshal(a.Weights)
		if err != nil {
			return nil, fmt.Errorf("%w: %s weights: %w", ErrFormat, m.Kind, err)
		}
		if k := KindOfAE(am.Config().Kind); k != m.Kind {
			return nil, fmt.Errorf("%w: the weights are a %q autoencoder, the artifact says %q", ErrKind, k, m.Kind)
		}
		if m.Score.Type != "" && m.Score.Type != ScoreMSE {
			return nil, fmt.Errorf("%w: score %q: an autoencoder scores %q", ErrFormat, m.Score.Type, ScoreMSE)
		}
		l.ae, dim = am, am.InputDim()
	}
	if dim != want {
		return nil, fmt.Errorf("%w: the network takes %d values per patch, the feature configuration makes %d", ErrMismatch, dim, want)
	}
	return l, nil
}

// vaeScoreConfig turns a ScoreSpec into the VAE's estimator settings; an
// empty type is vae.LogEvidence.
func vaeScoreConfig(s ScoreSpec) (vae.ScoreConfig, error) {
	sc := vae.ScoreConfig{Samples: s.Samples, BurnIn: s.BurnIn, Thin: s.Thin, Seed: s.Seed}
	if s.Type != "" {
		t, err := vae.ParseScoreType(s.Type)
		if err != nil {
			return sc, fmt.Errorf("%w: score: %w", ErrFormat, err)
		}
		sc.Type = t
	}
	return sc, nil
}

// Load reads the artifact at path (ReadFile) and opens it (Open). Errors
// name the file.
func Load(path string) (*Loaded, error) {
	a, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	l, err := Open(a)
	if err != nil {
		return nil, fmt.Errorf("model: open %s: %w", path, err)
	}
	return l, nil
}

// NewScorer returns a new Scorer with its own copy of the network prepared
// for inference (BatchNorm folded). The autoencoders score the mean squared
// reconstruction error (ae.Scorer); the VAE scores with the estimator of
// Meta.Score (type, samples, burn-in, thin, seed), so its scores are those
// the threshold was learned on. One per goroutine; it allocates the copy.
func (l *Loaded) NewScorer() Scorer {
	if l.vae != nil {
		e, err := l.vae.NewScorer(l.score)
		if err != nil {
			panic(fmt.Sprintf("model: NewScorer: %v (checked by Open)", err)) // unreachable after Open
		}
		return vaeScorer{e}
	}
	return aeScorer{l.ae.NewScorer()}
}

// InputDim returns the values per patch the model takes.
func (l *Loaded) InputDim() int {
	if l.vae != nil {
		return l.vae.InputDim()
	}
	return l.ae.InputDim()
}

// Bands returns the number of band indices a band-tagged model expects
// (Scorer.Score reads bands), or 0 when the model is not tagged and serves
// every band alike.
func (l *Loaded) Bands() int {
	if l.vae != nil {
		return l.vae.Bands()
	}
	return 0
}

// AE returns the decoded autoencoder, or nil for a VAE.
func (l *Loaded) AE() *ae.Model { return l.ae }

// VAE returns the decoded VAE, or nil for an autoencoder.
func (l *Loaded) VAE() *vae.Model { return l.vae }

// KindOfAE returns the artifact kind name of an autoencoder kind
// (ae.Dense → "dense-ae", ...), or "" for an unknown one.
func KindOfAE(k ae.Kind) string {
	switch k {
	case ae.Dense:
		return DenseAE
	case ae.CAES:
		return CAES
	case ae.Sparse:
		return SparseAE
	case ae.Denoising:
		return DenoisingAE
	}
	return ""
}

// AEKind returns the autoencoder kind of an artifact kind name, and false
// for "vae" or an unknown name.
func AEKind(kind string) (ae.Kind, bool) {
	switch kind {
	case DenseAE:
		return ae.Dense, true
	case CAES:
		return ae.CAES, true
	case SparseAE:
		return ae.Sparse, true
	case DenoisingAE:
		return ae.Denoising, true
	}
	return "", false
}

type aeScorer struct{ s *ae.Scorer }

func (a aeScorer) InputDim() int { return a.s.InputDim() }
func (a aeScorer) Score(scores []float64, perFeature []float32, x []float32, _ []int, n int) {
	a.s.Score(scores, perFeature, x, n)
}

type vaeScorer struct{ e *vae.Estimator }

func (v vaeScorer) InputDim() int { return v.e.InputDim() }
func (v vaeScorer) Score(scores []float64, perFeature []float32, x []float32, bands []int, n int) {
	v.e.ScoreBands(scores, perFeature, x, bands, n)
}

var (
	_ Scorer = aeScorer{}
	_ Scorer = vaeScorer{}
)
