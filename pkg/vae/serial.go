package vae

import (
	"errors"
	"fmt"

	"github.com/mhmstream/mhm/internal/blob"
)

// ErrFormat is wrapped by Unmarshal's errors about bytes that are not a
// valid model blob (wrong magic or version, bad checksum, truncation,
// malformed parts).
var ErrFormat = errors.New("vae: malformed model")

var blobMagic = [8]byte{'M', 'H', 'M', 'V', 'A', 'E', 'M', 'D'}

const blobVersion = 1

// MarshalBinary encodes everything needed to score with the model, in this
// little-endian format (version 1):
//
//	magic    [8]byte  "MHMVAEMD"
//	version  uint32   1
//	cfgLen   uint32   length of the Config as JSON
//	cfg      [cfgLen]byte
//	stdLen   uint32   length of the Standardizer (0: none)
//	std      [stdLen]byte  norm.Standardizer.MarshalBinary
//	nnLen    uint64   length of the parameter stream
//	params   [nnLen]byte   nn.Save of the layers (weights, BatchNorm statistics, decoder log-variance)
//	crc      uint32   CRC-32 (IEEE) of every preceding byte
//
// The layers are, in order: the conv stack, the dense encoder (each only
// when configured), the mu head, the log-variance head, the decoder and,
// for a Gaussian decoder with learned variance, the decoder log-variance.
// It allocates the blob.
func (m *Model) MarshalBinary() ([]byte, error) {
	b, err := blob.Marshal(blobMagic, blobVersion, m.cfg, m.std, m.layers(true)...)
	if err != nil {
		return nil, fmt.Errorf("vae: MarshalBinary: %w", err)
	}
	return b, nil
}

// Unmarshal decodes a blob written by MarshalBinary into a new Model. Every
// error (truncation, a flipped bit anywhere, an unknown version, a config
// that does not build, parameters that do not fit it) is returned wrapping
// ErrFormat; it never panics on bad input. The checksum is verified before
// anything is parsed.
func Unmarshal(b []byte) (*Model, error) {
	sec, err := blob.Decode(b, blobMagic, blobVersion, "a VAE model")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	var cfg Config
	if err := blob.DecodeConfig(sec.Config, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	full, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if g, _ := full.geometry(); uint64(len(sec.Weights)) < 4*uint64(g.params) {
		// Checked before building, so a blob cannot make Unmarshal
		// allocate much more than its own size.
		return nil, fmt.Errorf("%w: the config needs %d parameters, the weights section has %d bytes", ErrFormat, g.params, len(sec.Weights))
	}
	m, err := New(full)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if m.std, err = sec.Standardizer(m.d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if err := sec.LoadWeights(m.layers(true)...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}
