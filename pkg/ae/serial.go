package ae

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

// header: magic, version; then three length-prefixed sections; CRC.
const minModelLen = 8 + 4 + 4 + 4 + 8 + 4

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
	cfg, err := json.Marshal(m.cfg)
	if err != nil {
		return nil, fmt.Errorf("ae: MarshalBinary: %w", err)
	}
	var std []byte
	if m.std != nil {
		if std, err = m.std.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("ae: MarshalBinary: %w", err)
		}
	}
	var w bytes.Buffer
	if err := nn.Save(&w, m.enc, m.dec); err != nil {
		return nil, fmt.Errorf("ae: MarshalBinary: %w", err)
	}
	b := make([]byte, 0, minModelLen+len(cfg)+len(std)+w.Len())
	b = append(b, modelMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, FormatVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cfg)))
	b = append(b, cfg...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(std)))
	b = append(b, std...)
	b = binary.LittleEndian.AppendUint64(b, uint64(w.Len()))
	b = append(b, w.Bytes()...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
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
	if len(b) < 12 {
		return bad("%d bytes, too short for a model", len(b))
	}
	if [8]byte(b[:8]) != modelMagic {
		return bad("not an autoencoder model (magic %q)", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != FormatVersion {
		if v > FormatVersion {
			return nil, fmt.Errorf("%w: version %d is newer than this build's %d", ErrVersion, v, FormatVersion)
		}
		return bad("version %d", v)
	}
	if len(b) < minModelLen {
		return bad("%d bytes, too short for a model (truncated?)", len(b))
	}
	body := b[:len(b)-4]
	if got, want := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.ChecksumIEEE(body); got != want {
		return bad("checksum %08x, computed %08x (corrupt or truncated)", got, want)
	}
	r := body[12:]
	section := func(what string, wide bool) ([]byte, error) {
		var n uint64
		if wide {
			if len(r) < 8 {
				return nil, fmt.Errorf("%w: truncated before the %s length", ErrFormat, what)
			}
			n, r = binary.LittleEndian.Uint64(r), r[8:]
		} else {
			if len(r) < 4 {
				return nil, fmt.Errorf("%w: truncated before the %s length", ErrFormat, what)
			}
			n, r = uint64(binary.LittleEndian.Uint32(r)), r[4:]
		}
		if n > uint64(len(r)) {
			return nil, fmt.Errorf("%w: %s of %d bytes, %d left", ErrFormat, what, n, len(r))
		}
		s := r[:n]
		r = r[n:]
		return s, nil
	}
	cfgB, err := section("config", false)
	if err != nil {
		return nil, err
	}
	stdB, err := section("standardizer", false)
	if err != nil {
		return nil, err
	}
	wB, err := section("weights", true)
	if err != nil {
		return nil, err
	}
	if len(r) != 0 {
		return bad("%d unexpected bytes after the weights", len(r))
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(cfgB))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return bad("config: %v", err)
	}
	if dec.More() {
		return bad("config: trailing data")
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
	var std *norm.Standardizer
	switch {
	case len(stdB) > 0 && rc.NoStandardize:
		return bad("standardizer present but the config turns standardisation off")
	case len(stdB) == 0 && !rc.NoStandardize:
		return bad("standardizer missing")
	case len(stdB) > 0:
		std = new(norm.Standardizer)
		if err := std.UnmarshalBinary(stdB); err != nil {
			return bad("%v", err)
		}
		if std.Dim() != rc.InputDim() {
			return bad("standardizer of %d features, config %d", std.Dim(), rc.InputDim())
		}
	}
	m := build(rc, a)
	m.std = std
	wr := bytes.NewReader(wB)
	if err := nn.Load(wr, m.enc, m.dec); err != nil {
		return bad("weights: %v", err)
	}
	if wr.Len() != 0 {
		return bad("%d unexpected bytes after the weight stream", wr.Len())
	}
	return m, nil
}
