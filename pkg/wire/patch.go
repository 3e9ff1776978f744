package wire

import (
	"encoding/binary"
	"math"
)

// Tag says where a patch comes from. Its fields, names and order are those of
// pkg/patch's Tag, so the two convert with a plain conversion
// (patch.Tag(w.Tag)) without this package importing pkg/patch.
type Tag struct {
	Machine    string  // machine id, 1 to MaxStringLen bytes
	Sensor     string  // sensor name, 0 to MaxStringLen bytes
	Band       int     // band index within the feature configuration, >= 0
	LowHz      float64 // lowest frequency of the band (Hz), finite, >= 0
	HighHz     float64 // highest frequency of the band (Hz), finite, >= LowHz
	Frame      int64   // index of the patch's first STFT frame in its stream, >= 0
	StartNs    int64   // Unix ns of the first frame
	DurationNs int64   // ns the patch spans, >= 0
}

// Patch is a T×F block of spectrogram values with its tag and the hash of the
// feature configuration that produced it. Values are frame-major: value
// (t, f) is Values[t*F+f], len(Values) == T*F.
type Patch struct {
	Tag         Tag
	FeatureHash string // feature.Config hash, 0 to MaxStringLen bytes
	T, F        int    // frames and frequency bins, each >= 1, T*F <= MaxPatchValues
	Values      []float32
}

// Validate checks p and returns an error wrapping ErrMachine, ErrString,
// ErrTag, ErrShape or ErrNonFinite (the first problem found), or nil.
func (p *Patch) Validate() error {
	t := &p.Tag
	switch {
	case t.Machine == "":
		return errf(ErrMachine, "patch: empty machine id")
	case len(t.Machine) > MaxStringLen:
		return errf(ErrMachine, "patch: machine id is %d bytes, max %d", len(t.Machine), MaxStringLen)
	case len(t.Sensor) > MaxStringLen:
		return errf(ErrString, "patch: sensor name is %d bytes, max %d", len(t.Sensor), MaxStringLen)
	case len(p.FeatureHash) > MaxStringLen:
		return errf(ErrString, "patch: feature hash is %d bytes, max %d", len(p.FeatureHash), MaxStringLen)
	case t.Band < 0 || t.Band > math.MaxInt32:
		return errf(ErrTag, "patch: band %d out of [0, 2^31)", t.Band)
	case !finite64(t.LowHz) || !finite64(t.HighHz) || t.LowHz < 0 || t.HighHz < t.LowHz:
		return errf(ErrTag, "patch: band range [%v, %v] Hz", t.LowHz, t.HighHz)
	case t.Frame < 0:
		return errf(ErrTag, "patch: negative first frame %d", t.Frame)
	case t.DurationNs < 0:
		return errf(ErrTag, "patch: negative duration %d ns", t.DurationNs)
	case p.T < 1 || p.F < 1 || p.T > MaxPatchValues || p.F > MaxPatchValues || p.T*p.F > MaxPatchValues:
		return errf(ErrShape, "patch: shape %d×%d, want T, F >= 1 and T*F <= %d", p.T, p.F, MaxPatchValues)
	case len(p.Values) != p.T*p.F:
		return errf(ErrShape, "patch: %d values for shape %d×%d", len(p.Values), p.T, p.F)
	}
	if i := firstNonFinite(p.Values); i >= 0 {
		return errf(ErrNonFinite, "patch: value %d (t=%d, f=%d) is %v", i, i/p.F, i%p.F, p.Values[i])
	}
	return nil
}

// PatchSize returns the encoded size of p in bytes:
// 57 + len(Machine) + len(Sensor) + len(FeatureHash) + 4*len(Values).
func PatchSize(p *Patch) int {
	return 2 + 1 + len(p.Tag.Machine) + 1 + len(p.Tag.Sensor) + 1 + len(p.FeatureHash) +
		4 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 4*len(p.Values)
}

// AppendPatch appends the binary encoding of p to dst (layout in
// docs/wire.md) and returns the extended slice. It allocates only when dst
// lacks PatchSize(p) bytes of spare capacity. It does not validate p (call
// Validate); it panics if a string is longer than MaxStringLen, if T or F is
// negative or does not fit in 32 bits, or if len(Values) != T*F.
func AppendPatch(dst []byte, p *Patch) []byte {
	if p.T < 0 || p.F < 0 || p.T > math.MaxUint32 || p.F > math.MaxUint32 || len(p.Values) != p.T*p.F {
		panic("wire: AppendPatch: len(Values) != T*F or shape out of range")
	}
	dst = grow(dst, PatchSize(p))
	dst = append(dst, MagicPatch, Version)
	dst = appendStr(dst, p.Tag.Machine, "machine")
	dst = appendStr(dst, p.Tag.Sensor, "sensor")
	dst = appendStr(dst, p.FeatureHash, "feature hash")
	dst = appendU32(dst, uint32(int32(p.Tag.Band)))
	dst = appendF64(dst, p.Tag.LowHz)
	dst = appendF64(dst, p.Tag.HighHz)
	dst = appendU64(dst, uint64(p.Tag.Frame))
	dst = appendU64(dst, uint64(p.Tag.StartNs))
	dst = appendU64(dst, uint64(p.Tag.DurationNs))
	dst = appendU32(dst, uint32(p.T))
	dst = appendU32(dst, uint32(p.F))
	for _, x := range p.Values {
		dst = appendF32(dst, x)
	}
	return dst
}

// DecodePatch decodes the binary patch b into p and validates it. Like
// DecodeRawFrame it reuses p: Values is resliced within its capacity and the
// strings are replaced only when they differ, so a steady stream decodes with
// no allocation; the value count is checked against the bytes present before
// any allocation. On error p holds a partial decode. The error wraps
// ErrMagic, ErrVersion, ErrTruncated, ErrTrailing, ErrShape or one of
// Validate's errors.
func DecodePatch(p *Patch, b []byte) error {
	if len(b) > 0 && b[0] != MagicPatch {
		return errf(ErrMagic, "patch: first byte 0x%02x, want 0x%02x", b[0], MagicPatch)
	}
	r := reader{b: b}
	r.u8("magic")
	if v := r.u8("version"); r.err == nil && v != Version {
		return errf(ErrVersion, "patch: version %d, want %d", v, Version)
	}
	r.str(&p.Tag.Machine, "machine")
	r.str(&p.Tag.Sensor, "sensor")
	r.str(&p.FeatureHash, "feature hash")
	p.Tag.Band = int(int32(r.u32("band")))
	p.Tag.LowHz = r.f64("low Hz")
	p.Tag.HighHz = r.f64("high Hz")
	p.Tag.Frame = int64(r.u64("frame"))
	p.Tag.StartNs = int64(r.u64("start"))
	p.Tag.DurationNs = int64(r.u64("duration"))
	t, f := r.u32("T"), r.u32("F")
	if r.err != nil {
		return r.err
	}
	n := uint64(t) * uint64(f)
	if t == 0 || f == 0 || n > MaxPatchValues {
		return errf(ErrShape, "patch: shape %d×%d, want T, F >= 1 and T*F <= %d", t, f, MaxPatchValues)
	}
	rest := r.rest()
	if uint64(len(rest)) < 4*n {
		return errf(ErrTruncated, "patch: %d values need %d bytes, %d left", n, 4*n, len(rest))
	}
	if uint64(len(rest)) > 4*n {
		return errf(ErrTrailing, "patch: %d bytes after %d values", uint64(len(rest))-4*n, n)
	}
	p.T, p.F = int(t), int(f)
	p.Values = resize32(p.Values, int(n))
	for i := range p.Values {
		p.Values[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
	}
	return p.Validate()
}
