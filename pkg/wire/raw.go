package wire

import (
	"encoding/binary"
	"math"
)

// Magic bytes and the current format version.
const (
	MagicRawFrame byte = 'R' // 0x52, first byte of a binary raw frame
	MagicPatch    byte = 'P' // 0x50, first byte of a binary patch
	Version       byte = 1   // second byte of both formats
)

// Encoding says how a raw frame's samples travel.
type Encoding uint8

const (
	// Int16 samples are signed 16-bit integers (ADC counts, PCM); the
	// physical value of sample i is float32(Int16[i]) * Scale.
	Int16 Encoding = 1
	// Float32 samples are IEEE-754 single-precision physical values.
	Float32 Encoding = 2
)

// String returns "int16", "float32" or "encoding(N)".
func (e Encoding) String() string {
	switch e {
	case Int16:
		return "int16"
	case Float32:
		return "float32"
	}
	return "encoding(" + itoa(int(e)) + ")"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// RawFrame is a run of consecutive samples from one sensor of one machine.
//
// Exactly one of Int16 and Float32 carries the samples, as Encoding says;
// the other is ignored by the encoder and left with length 0 by the decoder
// (its capacity is kept for reuse).
type RawFrame struct {
	Machine     string   // machine id, the Kafka key; 1 to MaxStringLen bytes
	Sensor      string   // sensor name within the machine; 0 to MaxStringLen bytes
	SampleRate  float64  // samples per second (Hz), finite, in (0, MaxSampleRate]
	TimestampNs int64    // time of the first sample, Unix ns
	Seq         uint64   // per-(machine, sensor) sequence number, +1 per frame
	Encoding    Encoding // Int16 or Float32
	Scale       float32  // Int16 only: physical units per count, finite and > 0
	Int16       []int16  // samples when Encoding == Int16
	Float32     []float32
}

// Len returns the number of samples in f.
func (f *RawFrame) Len() int {
	if f.Encoding == Int16 {
		return len(f.Int16)
	}
	return len(f.Float32)
}

// DurationNs returns the time the frame spans, Len/SampleRate seconds, in ns
// (0 when SampleRate is not positive).
func (f *RawFrame) DurationNs() int64 {
	if !(f.SampleRate > 0) {
		return 0
	}
	return int64(math.Round(float64(f.Len()) / f.SampleRate * 1e9))
}

// AppendValues appends the frame's physical sample values to dst and returns
// it: Float32 as is, Int16 as float32(x)*Scale. It allocates only when dst
// lacks the capacity.
func (f *RawFrame) AppendValues(dst []float32) []float32 {
	if f.Encoding != Int16 {
		return append(dst, f.Float32...)
	}
	n := len(dst)
	if cap(dst)-n < len(f.Int16) {
		nd := make([]float32, n, n+len(f.Int16))
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:n+len(f.Int16)]
	out := dst[n:]
	for i, x := range f.Int16 {
		out[i] = float32(x) * f.Scale
	}
	return dst
}

// Validate checks f against the rules every decoder enforces and returns an
// error wrapping ErrMachine, ErrString, ErrRate, ErrEncoding, ErrScale,
// ErrLength or ErrNonFinite (the first problem found), or nil.
func (f *RawFrame) Validate() error { return f.validate(true) }

// validate checks f; scan says whether to look for non-finite samples
// (DecodeRawFrame checks them while decoding).
func (f *RawFrame) validate(scan bool) error {
	if f.Machine == "" {
		return errf(ErrMachine, "raw frame: empty machine id")
	}
	if len(f.Machine) > MaxStringLen {
		return errf(ErrMachine, "raw frame: machine id is %d bytes, max %d", len(f.Machine), MaxStringLen)
	}
	if len(f.Sensor) > MaxStringLen {
		return errf(ErrString, "raw frame: sensor name is %d bytes, max %d", len(f.Sensor), MaxStringLen)
	}
	if !finite64(f.SampleRate) || f.SampleRate <= 0 || f.SampleRate > MaxSampleRate {
		return errf(ErrRate, "raw frame: sample rate %v Hz is not in (0, %g]", f.SampleRate, float64(MaxSampleRate))
	}
	switch f.Encoding {
	case Int16:
		if !finite32(f.Scale) || f.Scale <= 0 {
			return errf(ErrScale, "raw frame: int16 scale %v is not finite and positive", f.Scale)
		}
	case Float32:
		if !scan {
			break
		}
		if i := firstNonFinite(f.Float32); i >= 0 {
			return errf(ErrNonFinite, "raw frame: sample %d is %v", i, f.Float32[i])
		}
	default:
		return errf(ErrEncoding, "raw frame: encoding %d", f.Encoding)
	}
	if n := f.Len(); n == 0 || n > MaxSamples {
		return errf(ErrLength, "raw frame: %d samples, want 1 to %d", n, MaxSamples)
	}
	return nil
}

// RawFrameSize returns the encoded size of f in bytes:
// 3 + 1+len(Machine) + 1+len(Sensor) + 24 + (4 if Int16) + 4 + Len*width.
func RawFrameSize(f *RawFrame) int {
	n := 3 + 1 + len(f.Machine) + 1 + len(f.Sensor) + 8 + 8 + 8 + 4
	if f.Encoding == Int16 {
		return n + 4 + 2*len(f.Int16)
	}
	return n + 4*len(f.Float32)
}

// AppendRawFrame appends the binary encoding of f to dst and returns the
// extended slice (layout in docs/wire.md). It allocates only when dst lacks
// RawFrameSize(f) bytes of spare capacity. It does not validate f (call
// Validate); it panics if f.Encoding is neither Int16 nor Float32, if Machine
// or Sensor is longer than MaxStringLen or if there are more than MaxSamples
// samples.
func AppendRawFrame(dst []byte, f *RawFrame) []byte {
	if f.Encoding != Int16 && f.Encoding != Float32 {
		panic("wire: AppendRawFrame: unknown encoding")
	}
	if f.Len() > MaxSamples {
		panic("wire: AppendRawFrame: more than MaxSamples samples")
	}
	dst = grow(dst, RawFrameSize(f))
	dst = append(dst, MagicRawFrame, Version, byte(f.Encoding))
	dst = appendStr(dst, f.Machine, "machine")
	dst = appendStr(dst, f.Sensor, "sensor")
	dst = appendF64(dst, f.SampleRate)
	dst = appendU64(dst, uint64(f.TimestampNs))
	dst = appendU64(dst, f.Seq)
	if f.Encoding == Int16 {
		dst = appendF32(dst, f.Scale)
		dst = appendU32(dst, uint32(len(f.Int16)))
		for _, x := range f.Int16 {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(x))
		}
		return dst
	}
	dst = appendU32(dst, uint32(len(f.Float32)))
	for _, x := range f.Float32 {
		dst = appendF32(dst, x)
	}
	return dst
}

// DecodeRawFrame decodes the binary raw frame b into f and validates it.
//
// f is reused: Int16 and Float32 are resliced within their capacity and
// grown only when too small, Machine and Sensor are replaced only when they
// differ, so decoding a steady stream into the same f allocates nothing. The
// sample count is checked against the bytes present before any allocation.
// On error f holds a partial decode and must not be used. The error wraps
// ErrMagic, ErrVersion, ErrTruncated, ErrTrailing, ErrEncoding, ErrLength or
// one of Validate's errors; b is never retained.
func DecodeRawFrame(f *RawFrame, b []byte) error {
	r := reader{b: b}
	if len(b) > 0 && b[0] != MagicRawFrame {
		return errf(ErrMagic, "raw frame: first byte 0x%02x, want 0x%02x", b[0], MagicRawFrame)
	}
	r.u8("magic")
	if v := r.u8("version"); r.err == nil && v != Version {
		return errf(ErrVersion, "raw frame: version %d, want %d", v, Version)
	}
	enc := Encoding(r.u8("encoding"))
	if r.err == nil && enc != Int16 && enc != Float32 {
		return errf(ErrEncoding, "raw frame: encoding %d", enc)
	}
	r.str(&f.Machine, "machine")
	r.str(&f.Sensor, "sensor")
	f.SampleRate = r.f64("sample rate")
	f.TimestampNs = int64(r.u64("timestamp"))
	f.Seq = r.u64("seq")
	f.Encoding = enc
	f.Scale = 0
	width := 4
	if enc == Int16 {
		f.Scale = r.f32("scale")
		width = 2
	}
	n := r.u32("sample count")
	if r.err != nil {
		return r.err
	}
	if n == 0 || n > MaxSamples {
		return errf(ErrLength, "raw frame: %d samples, want 1 to %d", n, MaxSamples)
	}
	rest := r.rest()
	if uint64(len(rest)) < uint64(n)*uint64(width) {
		return errf(ErrTruncated, "raw frame: %d %s samples need %d bytes, %d left", n, enc, uint64(n)*uint64(width), len(rest))
	}
	if uint64(len(rest)) > uint64(n)*uint64(width) {
		return errf(ErrTrailing, "raw frame: %d bytes after %d samples", uint64(len(rest))-uint64(n)*uint64(width), n)
	}
	if enc == Int16 {
		f.Int16 = resize16(f.Int16, int(n))
		f.Float32 = f.Float32[:0]
		for i := range f.Int16 {
			f.Int16[i] = int16(binary.LittleEndian.Uint16(rest[2*i:]))
		}
	} else {
		f.Float32 = resize32(f.Float32, int(n))
		f.Int16 = f.Int16[:0]
		bad := -1
		for i := range f.Float32 {
			u := binary.LittleEndian.Uint32(rest[4*i:])
			if u&0x7f800000 == 0x7f800000 && bad < 0 { // exponent all ones: NaN or ±Inf
				bad = i
			}
			f.Float32[i] = math.Float32frombits(u)
		}
		if bad >= 0 {
			if err := f.validate(false); err != nil {
				return err
			}
			return errf(ErrNonFinite, "raw frame: sample %d is %v", bad, f.Float32[bad])
		}
	}
	return f.validate(false)
}

func resize16(s []int16, n int) []int16 {
	if cap(s) < n {
		return make([]int16, n)
	}
	return s[:n]
}

func resize32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
