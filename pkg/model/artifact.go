package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// FormatVersion is the artifact format this package writes. Read accepts
// every version up to it and refuses newer ones with ErrNewer.
const FormatVersion = 1

// Magic opens every artifact file.
const Magic = "MHMMODEL"

// MaxSize bounds what Read accepts (1 GiB): a corrupt length field must not
// make it allocate without limit.
const MaxSize = 1 << 30

// Errors returned by Read and Decode; each is wrapped with detail.
var (
	ErrFormat    = errors.New("model: not an mhm model artifact")
	ErrNewer     = errors.New("model: artifact written by a newer mhm")
	ErrTruncated = errors.New("model: artifact truncated")
	ErrChecksum  = errors.New("model: artifact checksum mismatch (corrupt file)")
	ErrKind      = errors.New("model: unknown model kind")
	ErrMismatch  = errors.New("model: feature configuration does not match the model")
)

// Kinds of model, by the names the CLI and the artifact use.
const (
	DenseAE     = "dense-ae"
	CAES        = "caes"
	SparseAE    = "sparse-ae"
	DenoisingAE = "denoising-ae"
	VAE         = "vae"
)

// Kinds lists every model kind.
var Kinds = []string{DenseAE, CAES, SparseAE, DenoisingAE, VAE}

// ScoreSpec says how a model's patches are scored: the score type ("mse"
// for the autoencoders; "elbo", "recon-prob", "log-evidence" or "harmonic"
// for the VAE) and, for the VAE, the number of Monte-Carlo samples and the
// seed. The threshold was learned on scores of exactly this kind.
type ScoreSpec struct {
	Type    string `json:"type"`
	Samples int    `json:"samples,omitempty"`
	BurnIn  int    `json:"burn_in,omitempty"`
	Thin    int    `json:"thin,omitempty"`
	Seed    uint64 `json:"seed,omitempty"`
}

// Decision is how a detector turns patch scores into alarms: patch scores
// are aggregated over time windows, each window's score is compared with
// the threshold, and an alarm needs Persistence.K of the last
// Persistence.N windows above it.
type Decision struct {
	Window      threshold.WindowConfig      `json:"window"`
	Persistence threshold.PersistenceConfig `json:"persistence"`
}

// Epoch is one line of the training history.
type Epoch struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// Training records how a model was fitted.
type Training struct {
	Files            []string `json:"files,omitempty"`             // training recordings, in the order given
	CalibrationFiles []string `json:"calibration_files,omitempty"` // held out to learn the threshold
	Patches          int      `json:"patches"`                     // training patches
	CalibPatches     int      `json:"calibration_patches"`
	CalibWindows     int      `json:"calibration_windows"`
	Epochs           int      `json:"epochs"`
	BestEpoch        int      `json:"best_epoch,omitempty"`
	Seconds          float64  `json:"seconds"`
	Seed             uint64   `json:"seed"`
	History          []Epoch  `json:"history,omitempty"`
}

// Input says how recordings were read into the signal the features were
// computed on. The trainer's score, eval and timeline verbs default to it,
// so that a model is applied to data prepared as it was trained.
type Input struct {
	// Channel is the channel as given (an index counting from 0, or a
	// name); "" means 0. ChannelName is the name it resolved to where the
	// format names channels (FEMTO: horizontal, vertical; MAT: variables).
	Channel     string `json:"channel,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
	// Variable picks the MAT variable (exact name or suffix).
	Variable string `json:"variable,omitempty"`
	// SourceRate is the sample rate given for formats without one (CSV).
	SourceRate float64 `json:"source_rate,omitempty"`
	// SegmentNs > 0: recordings were cut into consecutive windows of this
	// length, each an item with its own score; 0: whole files.
	SegmentNs int64 `json:"segment_ns,omitempty"`
}

// Meta is everything an artifact says about its model except the weights.
type Meta struct {
	FormatVersion int    `json:"format_version"`
	Version       string `json:"version"` // content hash, stamped by Encode: "<machine>@<12 hex>"
	Machine       string `json:"machine"`
	Sensor        string `json:"sensor,omitempty"` // empty: the model serves every sensor of the machine
	Kind          string `json:"kind"`
	// Hyper is the model kind's own configuration (architecture,
	// penalties, optimiser settings), as JSON.
	Hyper       json.RawMessage     `json:"hyper,omitempty"`
	Feature     feature.Config      `json:"feature"`
	FeatureHash string              `json:"feature_hash"`
	Score       ScoreSpec           `json:"score"`
	Threshold   threshold.Threshold `json:"threshold"`
	Decision    Decision            `json:"decision"`
	Training    Training            `json:"training"`
	Created     time.Time           `json:"created"`
	Tool        string              `json:"tool,omitempty"`

	// Added compatibly within format version 1 (absent in older files):

	// Input is how the training recordings were read; nil when unknown.
	Input *Input `json:"input,omitempty"`
	// BinBaseline localises anomalies: element k is the mean, over the
	// calibration patches whose band covers spectrogram bin k, of the
	// patch's per-bin contribution c_k = (1/T)·Σ_t perFeature[t·F + f]
	// (f = k − band·BinHop). A window's most anomalous bins are those with
	// the largest mean excess c_k − BinBaseline[k]. Length Feature.Bins(),
	// or empty.
	BinBaseline []float64 `json:"bin_baseline,omitempty"`
}

// Artifact is a model file: its Meta and the weights blob of its kind.
type Artifact struct {
	Meta    Meta
	Weights []byte
}

// Matches reports whether a patch computed with the feature configuration
// whose hash is featureHash can be scored by this model; if not, the error
// wraps ErrMismatch and names both hashes.
func (a *Artifact) Matches(featureHash string) error {
	if featureHash != a.Meta.FeatureHash {
		return fmt.Errorf("%w: patch features %s, model %s (machine %s) expects %s", ErrMismatch, short(featureHash), a.Meta.Version, a.Meta.Machine, short(a.Meta.FeatureHash))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Encode returns the artifact's bytes:
//
//	"MHMMODEL" | uint16 format version | uint32 n | n bytes of Meta JSON |
//	uint64 m | m bytes of weights | uint32 CRC-32C of everything before
//
// all little-endian. It fills in FormatVersion, FeatureHash (from Feature)
// and Version (the machine and the first 12 hex digits of the SHA-256 of
// the weights and the Meta without Version), so the same model always has
// the same version and any change gives a new one.
func (a *Artifact) Encode() ([]byte, error) {
	m := a.Meta
	if m.Machine == "" {
		return nil, fmt.Errorf("model: encode: empty machine")
	}
	if !validKind(m.Kind) {
		return nil, fmt.Errorf("%w %q", ErrKind, m.Kind)
	}
	m.FormatVersion = FormatVersion
	m.FeatureHash = m.Feature.Hash()
	m.Version = ""
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("model: encode meta: %w", err)
	}
	h := sha256.New()
	h.Write(body)
	h.Write(a.Weights)
	m.Version = m.Machine + "@" + hex.EncodeToString(h.Sum(nil))[:12]
	if body, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("model: encode meta: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(Magic)
	binary.Write(&b, binary.LittleEndian, uint16(FormatVersion))
	binary.Write(&b, binary.LittleEndian, uint32(len(body)))
	b.Write(body)
	binary.Write(&b, binary.LittleEndian, uint64(len(a.Weights)))
	b.Write(a.Weights)
	binary.Write(&b, binary.LittleEndian, crc32.Checksum(b.Bytes(), castagnoli))
	a.Meta = m
	return b.Bytes(), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func validKind(k string) bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Decode parses artifact bytes. It never panics: a short, corrupt or newer
// file returns an error wrapping ErrTruncated, ErrChecksum, ErrFormat or
// ErrNewer.
func Decode(b []byte) (*Artifact, error) {
	if len(b) < len(Magic)+2 || string(b[:len(Magic)]) != Magic {
		if len(b) < len(Magic) && string(b) == Magic[:len(b)] {
			return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
		}
		return nil, fmt.Errorf("%w: it does not start with %q", ErrFormat, Magic)
	}
	ver := int(binary.LittleEndian.Uint16(b[len(Magic):]))
	if ver > FormatVersion {
		return nil, fmt.Errorf("%w: format %d, this build reads up to %d: upgrade mhm", ErrNewer, ver, FormatVersion)
	}
	if ver < 1 {
		return nil, fmt.Errorf("%w: format version %d", ErrFormat, ver)
	}
	p := len(Magic) + 2
	need := func(n uint64, what string) error {
		if uint64(len(b)-p) < n {
			return fmt.Errorf("%w: %s needs %d bytes, %d left", ErrTruncated, what, n, len(b)-p)
		}
		return nil
	}
	if err := need(4, "meta length"); err != nil {
		return nil, err
	}
	n := uint64(binary.LittleEndian.Uint32(b[p:]))
	p += 4
	if err := need(n, "meta"); err != nil {
		return nil, err
	}
	metaJSON := b[p : p+int(n)]
	p += int(n)
	if err := need(8, "weights length"); err != nil {
		return nil, err
	}
	m := binary.LittleEndian.Uint64(b[p:])
	p += 8
	if err := need(m, "weights"); err != nil {
		return nil, err
	}
	weights := b[p : p+int(m)]
	p += int(m)
	if err := need(4, "checksum"); err != nil {
		return nil, err
	}
	if got, want := crc32.Checksum(b[:p], castagnoli), binary.LittleEndian.Uint32(b[p:]); got != want {
		return nil, fmt.Errorf("%w: stored %08x, computed %08x", ErrChecksum, want, got)
	}
	if p+4 != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the checksum", ErrFormat, len(b)-p-4)
	}
	a := &Artifact{Weights: append([]byte(nil), weights...)}
	if err := json.Unmarshal(metaJSON, &a.Meta); err != nil {
		return nil, fmt.Errorf("%w: meta: %v", ErrFormat, err)
	}
	if !validKind(a.Meta.Kind) {
		return nil, fmt.Errorf("%w %q", ErrKind, a.Meta.Kind)
	}
	if h := a.Meta.Feature.Hash(); h != a.Meta.FeatureHash {
		return nil, fmt.Errorf("%w: feature hash %s does not match its configuration (%s)", ErrFormat, short(a.Meta.FeatureHash), short(h))
	}
	return a, nil
}

// WriteFile encodes a and writes it to path atomically (a temporary file
// renamed into place), so a detector watching the folder never reads half
// a model.
func (a *Artifact) WriteFile(path string) error {
	b, err := a.Encode()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("model: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("model: write %s: %w", path, err)
	}
	return nil
}

// ReadFile reads and decodes the artifact at path; errors name the file.
func ReadFile(path string) (*Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("model: read %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("model: read %s: %w: larger than %d bytes", path, ErrFormat, MaxSize)
	}
	a, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("model: read %s: %w", path, err)
	}
	return a, nil
}
