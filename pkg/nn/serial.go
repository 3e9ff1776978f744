package nn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// ErrFormat is wrapped by Load's errors about malformed or mismatched data.
var ErrFormat = errors.New("nn: bad parameter file")

// magic starts every parameter stream.
var magic = [8]byte{'M', 'H', 'M', 'N', 'N', 'P', 'A', 'R'}

const formatVersion = 1

// Save writes the parameter values and state (BatchNorm running statistics)
// of layers to w in this little-endian format (version 1):
//
//	magic    [8]byte  "MHMNNPAR"
//	version  uint32   1
//	count    uint32   number of tensors
//	count ×  { nameLen uint16, name [nameLen]byte, n uint64, values [n]float32 }
//	crc      uint32   CRC-32 (IEEE) of every preceding byte
//
// Tensors appear in order: for each layer i, its Params() then its State(),
// named "i.name" (so a Sequential passed alone gives "0.3.weight" for the
// weight of its fourth layer). Gradients and optimiser state are not saved.
// The architecture is not saved either: Load needs layers built the same
// way. Save buffers its writes; it returns w's errors.
func Save(w io.Writer, layers ...Layer) error {
	ts := tensors(layers)
	crc := crc32.NewIEEE()
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	var b [8]byte
	bw.Write(magic[:])
	binary.LittleEndian.PutUint32(b[:4], formatVersion)
	bw.Write(b[:4])
	binary.LittleEndian.PutUint32(b[:4], uint32(len(ts)))
	bw.Write(b[:4])
	for _, t := range ts {
		if len(t.Name) > math.MaxUint16 {
			return fmt.Errorf("nn: Save: name %q too long", t.Name[:40])
		}
		binary.LittleEndian.PutUint16(b[:2], uint16(len(t.Name)))
		bw.Write(b[:2])
		bw.WriteString(t.Name)
		binary.LittleEndian.PutUint64(b[:8], uint64(len(t.Data)))
		bw.Write(b[:8])
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			bw.Write(b[:4])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("nn: Save: %w", err)
	}
	binary.LittleEndian.PutUint32(b[:4], crc.Sum32())
	if _, err := w.Write(b[:4]); err != nil {
		return fmt.Errorf("nn: Save: %w", err)
	}
	return nil
}

// Load reads a stream written by Save into layers, which must have the same
// architecture (same tensor names and sizes, in order). It reads exactly
// the stream's bytes, checks everything (names, sizes, checksum) before it
// changes any value, so on error the layers are untouched. Errors about the
// content wrap ErrFormat; read errors are returned wrapped. It allocates a
// copy of the values while checking.
func Load(r io.Reader, layers ...Layer) error {
	ts := tensors(layers)
	crc := crc32.NewIEEE()
	rd := &hashReader{r: r, h: crc}
	var b [8]byte
	if _, err := io.ReadFull(rd, b[:8]); err != nil {
		return fmt.Errorf("nn: Load: %w", err)
	}
	if b != magic {
		return fmt.Errorf("%w: not a parameter stream (magic %q)", ErrFormat, b[:])
	}
	if _, err := io.ReadFull(rd, b[:8]); err != nil {
		return fmt.Errorf("nn: Load: %w", err)
	}
	if v := binary.LittleEndian.Uint32(b[:4]); v != formatVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrFormat, v, formatVersion)
	}
	if c := binary.LittleEndian.Uint32(b[4:8]); int(c) != len(ts) {
		return fmt.Errorf("%w: %d tensors, the layers have %d", ErrFormat, c, len(ts))
	}
	vals := make([][]float32, len(ts))
	var name []byte
	var buf []byte
	for i, t := range ts {
		if _, err := io.ReadFull(rd, b[:2]); err != nil {
			return fmt.Errorf("nn: Load: %w", err)
		}
		name = append(name[:0], make([]byte, binary.LittleEndian.Uint16(b[:2]))...)
		if _, err := io.ReadFull(rd, name); err != nil {
			return fmt.Errorf("nn: Load: %w", err)
		}
		if string(name) != t.Name {
			return fmt.Errorf("%w: tensor %d is %q, the layers have %q", ErrFormat, i, name, t.Name)
		}
		if _, err := io.ReadFull(rd, b[:8]); err != nil {
			return fmt.Errorf("nn: Load: %w", err)
		}
		if n := binary.LittleEndian.Uint64(b[:8]); n != uint64(len(t.Data)) {
			return fmt.Errorf("%w: tensor %q has %d values, the layer %d", ErrFormat, t.Name, n, len(t.Data))
		}
		if cap(buf) < 4*len(t.Data) {
			buf = make([]byte, 4*len(t.Data))
		}
		buf = buf[:4*len(t.Data)]
		if _, err := io.ReadFull(rd, buf); err != nil {
			return fmt.Errorf("nn: Load: %w", err)
		}
		v := make([]float32, len(t.Data))
		for k := range v {
			v[k] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*k:]))
		}
		vals[i] = v
	}
	sum := crc.Sum32()
	if _, err := io.ReadFull(r, b[:4]); err != nil {
		return fmt.Errorf("nn: Load: %w", err)
	}
	if got := binary.LittleEndian.Uint32(b[:4]); got != sum {
		return fmt.Errorf("%w: checksum %08x, computed %08x", ErrFormat, got, sum)
	}
	for i, t := range ts {
		copy(t.Data, vals[i])
	}
	return nil
}

// tensors lists the Params then the State of each layer, named "i.name".
func tensors(layers []Layer) []Param {
	var ts []Param
	for i, l := range layers {
		ps := l.Params()
		if s, ok := l.(Stateful); ok {
			ps = append(append([]Param(nil), ps...), s.State()...)
		}
		for _, p := range ps {
			ts = append(ts, Param{Name: fmt.Sprintf("%d.%s", i, p.Name), Data: p.Data})
		}
	}
	return ts
}

type hashReader struct {
	r io.Reader
	h hash.Hash32
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}
