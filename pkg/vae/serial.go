package vae

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
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
	cfg, err := json.Marshal(m.cfg)
	if err != nil {
		return nil, fmt.Errorf("vae: MarshalBinary: %w", err)
	}
	var std []byte
	if m.std != nil {
		if std, err = m.std.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("vae: MarshalBinary: %w", err)
		}
	}
	var params bytes.Buffer
	if err := nn.Save(&params, m.layers(true)...); err != nil {
		return nil, fmt.Errorf("vae: MarshalBinary: %w", err)
	}
	b := make([]byte, 0, 8+4+4+len(cfg)+4+len(std)+8+params.Len()+4)
	b = append(b, blobMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, blobVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cfg)))
	b = append(b, cfg...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(std)))
	b = append(b, std...)
	b = binary.LittleEndian.AppendUint64(b, uint64(params.Len()))
	b = append(b, params.Bytes()...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// Unmarshal decodes a blob written by MarshalBinary into a new Model. Every
// error (truncation, a flipped bit anywhere, an unknown version, a config
// that does not build, parameters that do not fit it) is returned wrapping
// ErrFormat; it never panics on bad input. The checksum is verified before
// anything is parsed.
func Unmarshal(b []byte) (*Model, error) {
	const head = 8 + 4
	if len(b) < head+4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, len(b))
	}
	if !bytes.Equal(b[:8], blobMagic[:]) {
		return nil, fmt.Errorf("%w: not a VAE model (magic %q)", ErrFormat, b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != blobVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrFormat, v, blobVersion)
	}
	body := b[:len(b)-4]
	if got, want := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.ChecksumIEEE(body); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, computed %08x", ErrFormat, got, want)
	}
	r := body[head:]
	next := func(n uint64, what string) ([]byte, error) {
		if n > uint64(len(r)) {
			return nil, fmt.Errorf("%w: %s of %d bytes, %d left", ErrFormat, what, n, len(r))
		}
		p := r[:n]
		r = r[n:]
		return p, nil
	}
	u32 := func(what string) (uint64, error) {
		p, err := next(4, what)
		if err != nil {
			return 0, err
		}
		return uint64(binary.LittleEndian.Uint32(p)), nil
	}
	n, err := u32("config length")
	if err != nil {
		return nil, err
	}
	cfgBytes, err := next(n, "config")
	if err != nil {
		return nil, err
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(cfgBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrFormat, err)
	}
	full, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if g, _ := full.geometry(); uint64(len(r)) < 4*uint64(g.params) {
		// Checked before building, so a blob cannot make Unmarshal
		// allocate much more than its own size.
		return nil, fmt.Errorf("%w: the config needs %d parameters, %d bytes left", ErrFormat, g.params, len(r))
	}
	if n, err = u32("standardizer length"); err != nil {
		return nil, err
	}
	stdBytes, err := next(n, "standardizer")
	if err != nil {
		return nil, err
	}
	m, err := New(full)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if len(stdBytes) > 0 {
		s := new(norm.Standardizer)
		if err := s.UnmarshalBinary(stdBytes); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if s.Dim() != m.d {
			return nil, fmt.Errorf("%w: standardizer of %d features for a model of %d", ErrFormat, s.Dim(), m.d)
		}
		m.std = s
	}
	p, err := next(8, "parameter length")
	if err != nil {
		return nil, err
	}
	params, err := next(binary.LittleEndian.Uint64(p), "parameters")
	if err != nil {
		return nil, err
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrFormat, len(r))
	}
	pr := bytes.NewReader(params)
	if err := nn.Load(pr, m.layers(true)...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if pr.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the parameters", ErrFormat, pr.Len())
	}
	return m, nil
}
