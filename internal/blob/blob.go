// Package blob is the envelope the model packages (pkg/ae, pkg/vae) save a
// trained network in:
//
//	magic     [8]byte  the package's own
//	version   uint32   the package's format version
//	cfgLen    uint32,  config  [cfgLen]byte  the model's configuration as JSON
//	stdLen    uint32,  std     [stdLen]byte  norm.Standardizer.MarshalBinary (0: none)
//	wLen      uint64,  weights [wLen]byte    nn.Save of the layers
//	crc       uint32   CRC-32 (IEEE) of every preceding byte
//
// all little-endian. Marshal builds one from a model's parts; Decode,
// DecodeConfig, Sections.Standardizer and Sections.LoadWeights take it
// apart. Decode never panics and never allocates more than the blob it is
// given.
package blob

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

// Errors wrapped by Decode.
var (
	ErrFormat = errors.New("malformed model blob")
	ErrNewer  = errors.New("model blob written by a newer format")
)

// Sections are the three parts of a blob.
type Sections struct {
	Config  []byte // JSON
	Std     []byte // standardiser, empty when the model has none
	Weights []byte // nn.Save stream
}

const minLen = 8 + 4 + 4 + 4 + 8 + 4

// Encode returns the blob of s under magic and version. It allocates the
// result.
func Encode(magic [8]byte, version uint32, s Sections) []byte {
	b := make([]byte, 0, minLen+len(s.Config)+len(s.Std)+len(s.Weights))
	b = append(b, magic[:]...)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.Config)))
	b = append(b, s.Config...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.Std)))
	b = append(b, s.Std...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s.Weights)))
	b = append(b, s.Weights...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// Decode checks the magic (what names the kind of model in errors), the
// version (a newer one wraps ErrNewer), the checksum and the section
// lengths, and returns the sections, which alias b. Every other failure
// wraps ErrFormat.
func Decode(b []byte, magic [8]byte, version uint32, what string) (Sections, error) {
	var s Sections
	bad := func(format string, a ...any) (Sections, error) {
		return s, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	if len(b) < 12 {
		return bad("%d bytes, too short for a model", len(b))
	}
	if [8]byte(b[:8]) != magic {
		return bad("not %s (magic %q)", what, b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != version {
		if v > version {
			return s, fmt.Errorf("%w: version %d is newer than this build's %d: upgrade mhm", ErrNewer, v, version)
		}
		return bad("version %d", v)
	}
	if len(b) < minLen {
		return bad("%d bytes, too short for a model (truncated?)", len(b))
	}
	body := b[:len(b)-4]
	if got, want := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.ChecksumIEEE(body); got != want {
		return bad("checksum %08x, computed %08x (corrupt or truncated)", got, want)
	}
	r := body[12:]
	section := func(name string, wide bool) ([]byte, error) {
		var n uint64
		width := 4
		if wide {
			width = 8
		}
		if len(r) < width {
			return nil, fmt.Errorf("%w: truncated before the %s length", ErrFormat, name)
		}
		if wide {
			n = binary.LittleEndian.Uint64(r)
		} else {
			n = uint64(binary.LittleEndian.Uint32(r))
		}
		r = r[width:]
		if n > uint64(len(r)) {
			return nil, fmt.Errorf("%w: %s of %d bytes, %d left", ErrFormat, name, n, len(r))
		}
		p := r[:n]
		r = r[n:]
		return p, nil
	}
	var err error
	if s.Config, err = section("config", false); err != nil {
		return s, err
	}
	if s.Std, err = section("standardizer", false); err != nil {
		return s, err
	}
	if s.Weights, err = section("weights", true); err != nil {
		return s, err
	}
	if len(r) != 0 {
		return bad("%d unexpected bytes after the weights", len(r))
	}
	return s, nil
}

// DecodeConfig decodes a config section strictly: unknown fields and
// trailing data are errors wrapping ErrFormat.
func DecodeConfig(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: config: %v", ErrFormat, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: config: trailing data", ErrFormat)
	}
	return nil
}

// Marshal returns the blob of a model: cfg as JSON, std (nil: none) and
// nn.Save of layers, under magic and version. It allocates the result.
func Marshal(magic [8]byte, version uint32, cfg any, std *norm.Standardizer, layers ...nn.Layer) ([]byte, error) {
	c, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var s []byte
	if std != nil {
		if s, err = std.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	var w bytes.Buffer
	if err := nn.Save(&w, layers...); err != nil {
		return nil, err
	}
	return Encode(magic, version, Sections{Config: c, Std: s, Weights: w.Bytes()}), nil
}

// Standardizer decodes the standardiser section, nil when it is empty,
// and checks that it has dim features. Errors wrap ErrFormat.
func (s Sections) Standardizer(dim int) (*norm.Standardizer, error) {
	if len(s.Std) == 0 {
		return nil, nil
	}
	std := new(norm.Standardizer)
	if err := std.UnmarshalBinary(s.Std); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if std.Dim() != dim {
		return nil, fmt.Errorf("%w: standardizer of %d features for a model of %d", ErrFormat, std.Dim(), dim)
	}
	return std, nil
}

// LoadWeights loads the weights section into layers (nn.Load), which must
// use every byte of it. Errors wrap ErrFormat.
func (s Sections) LoadWeights(layers ...nn.Layer) error {
	r := bytes.NewReader(s.Weights)
	if err := nn.Load(r, layers...); err != nil {
		return fmt.Errorf("%w: weights: %w", ErrFormat, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d unexpected bytes after the weight stream", ErrFormat, r.Len())
	}
	return nil
}
