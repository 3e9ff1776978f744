package wire

import (
	"encoding/binary"
	"math"
)

// reader decodes little-endian fields from b, remembering the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) need(n int, what string) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = errf(ErrTruncated, "%s needs %d bytes at offset %d, %d left", what, n, r.off, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *reader) u8(what string) byte {
	if !r.need(1, what) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u32(what string) uint32 {
	if !r.need(4, what) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64(what string) uint64 {
	if !r.need(8, what) {
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) f32(what string) float32 { return math.Float32frombits(r.u32(what)) }
func (r *reader) f64(what string) float64 { return math.Float64frombits(r.u64(what)) }

// str reads a one-byte length and that many bytes into *dst, keeping the old
// string (no allocation) when the bytes are equal to it.
func (r *reader) str(dst *string, what string) {
	n := int(r.u8(what))
	if !r.need(n, what) {
		return
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	if *dst != string(b) { // the comparison does not allocate
		*dst = string(b)
	}
}

func (r *reader) rest() []byte { return r.b[r.off:] }

func appendU32(dst []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(dst, v) }
func appendU64(dst []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(dst, v) }
func appendF32(dst []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
}
func appendF64(dst []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}

func appendStr(dst []byte, s, what string) []byte {
	if len(s) > MaxStringLen {
		panic("wire: " + what + " longer than MaxStringLen")
	}
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

// grow returns dst with room for n more bytes, reallocating at most once.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nb := make([]byte, len(dst), len(dst)+n)
	copy(nb, dst)
	return nb
}
