package wire

import (
	"errors"
	"fmt"
	"math"
)

// Limits every decoder enforces. They bound what a corrupt or hostile record
// can make a decoder allocate.
const (
	// MaxStringLen is the longest machine, sensor, feature hash or score
	// type, in bytes (the length prefix is one byte).
	MaxStringLen = 255
	// MaxSamples is the most samples one raw frame may carry
	// (4 Mi samples: 262 s at 16 kHz, 1 s at 4 MHz).
	MaxSamples = 1 << 22
	// MaxPatchValues is the most values one patch may carry (T*F).
	MaxPatchValues = 1 << 20
	// MaxSampleRate is the highest sample rate accepted, in Hz.
	MaxSampleRate = 1e9
	// MaxBands is the most bands an event may list.
	MaxBands = 256
)

// Sentinel errors. Every error a decoder or Validate returns wraps exactly one
// of them (test with errors.Is).
var (
	ErrMagic     = errors.New("wire: bad magic byte")
	ErrVersion   = errors.New("wire: unsupported format version")
	ErrTruncated = errors.New("wire: truncated record")
	ErrTrailing  = errors.New("wire: trailing bytes after record")
	ErrEncoding  = errors.New("wire: unknown sample encoding")
	ErrMachine   = errors.New("wire: bad machine id")
	ErrString    = errors.New("wire: bad string field")
	ErrRate      = errors.New("wire: bad sample rate")
	ErrScale     = errors.New("wire: bad scale")
	ErrLength    = errors.New("wire: bad length")
	ErrNonFinite = errors.New("wire: non-finite value")
	ErrShape     = errors.New("wire: bad patch shape")
	ErrTag       = errors.New("wire: bad patch tag")
	ErrJSON      = errors.New("wire: malformed JSON")
	ErrEvent     = errors.New("wire: bad event")
	ErrEventID   = errors.New("wire: event_id does not match its fields")
)

var reasons = []struct {
	err    error
	reason string
}{
	{ErrMagic, "bad_magic"},
	{ErrVersion, "bad_version"},
	{ErrTruncated, "truncated"},
	{ErrTrailing, "trailing_bytes"},
	{ErrEncoding, "bad_encoding"},
	{ErrMachine, "bad_machine"},
	{ErrString, "bad_string"},
	{ErrRate, "bad_rate"},
	{ErrScale, "bad_scale"},
	{ErrLength, "bad_length"},
	{ErrNonFinite, "non_finite"},
	{ErrShape, "bad_shape"},
	{ErrTag, "bad_tag"},
	{ErrJSON, "bad_json"},
	{ErrEvent, "bad_event"},
	{ErrEventID, "bad_event_id"},
}

// Reason returns a short snake_case label for err ("truncated",
// "non_finite", ...), one per sentinel of this package, or "" when err wraps
// none of them. The set is fixed, so it is safe as a metric label.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ""
}

func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

func finite64(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func finite32(x float32) bool { return finite64(float64(x)) }

// firstNonFinite returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		// x-x is 0 for finite x and NaN for NaN and ±Inf.
		if x-x != 0 {
			return i
		}
	}
	return -1
}
