package ae

import (
	"errors"
	"fmt"

	"github.com/mhmstream/mhm/internal/blob"
)

var (
	// ErrFormat is wrapped by Unmarshal's errors about bytes that are not a
	// valid model: wrong magic, truncation, checksum mismatch, a config or
	// weights that do not parse or do not fit together.
	ErrFormat = errors.New("ae: malformed model")
	// ErrVersion is wrapped by Unmarshal's error for a model written by a
	// newer version of this package (a format version it does not know).
	ErrVersion = errors.New("ae: unsupported model format version")
)

// modelMagic starts every serialised Model.
var modelMagic = [8]byte{'M', 'H', 'M', 'A', 'E', 'M', 'D', 'L'}

// FormatVersion is the version of the format MarshalBinary writes.
const FormatVersion = 1

// MarshalBinary serialises the model, little-endian, format version 1:
//
//	magic     [8]byte  "MHMAEMDL"
//	version   uint32   1
//	cfgLen    uint32,  config  [cfgLen]byte  the resolved Config as JSON
//	stdLen    uint32,  std     [stdLen]byte  norm.Standardizer.MarshalBinary (stdLen 0: none)
//	wLen      uint64,  weights [wLen]byte    nn.Save(encoder, decoder): parameters
//	                                         and BatchNorm running statistics
//	crc       uint32   CRC-32 (IEEE) of every preceding byte
//
// It allocates the result.
func (m *Model) MarshalBinary() ([]byte, error) {
	b, err := blob.Marshal(modelMagic, FormatVersion, m.cfg, m.std, m.enc, m.dec)
	if err != nil {
		return nil, fmt.Errorf("ae: MarshalBinary: %w", err)
	}
	return b, nil
}

// Unmarshal decodes a model written by MarshalBinary. It checks, in order,
// the magic and the version (ErrVersion for a newer one), the length and
// the checksum, then the config (strict JSON, validated), the
// standardiser and the weights against the architecture the config
// describes; every failure is an error wrapping ErrFormat (or ErrVersion),
// never a panic. Sizes are checked against the blob's length before
// anything is allocated for them.
func Unmarshal(b []byte) (*Model, error) {
	bad := func(format string, a ...any) (*Model, error) {
		return nil, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	sec, err := blob.Decode(b, modelMagic, FormatVersion, "an autoencoder model")
	switch {
	case errors.Is(err, blob.ErrNewer):
		return nil, fmt.Errorf("%w: %w", ErrVersion, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	cfgB, stdB, wB := sec.Config, sec.Std, sec.Weights
	var cfg Config
	if err := blob.DecodeConfig(cfgB, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	rc, a, err := cfg.resolve()
	if err != nil {
		return bad("config: %v", err)
	}
	// Every parameter takes 4 bytes in the weights section: refuse to
	// build a network the section cannot hold.
	if uint64(a.params)*4 > uint64(len(wB)) {
		return bad("config needs %d values, the weights section has %d bytes", a.params, len(wB))
	}
	switch {
	case len(stdB) > 0 && rc.NoStandardize:
		return bad("standardizer present but the config turns standardisation off")
	case len(stdB) == 0 && !rc.NoStandardize:
		return bad("standardizer missing")
	}
	std, err := sec.Standardizer(rc.InputDim())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	m := build(rc, a)
	m.std = std
	if err := sec.LoadWeights(m.enc, m.dec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}
