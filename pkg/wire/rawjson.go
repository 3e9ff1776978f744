package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
)

// rawFrameJSON is the JSON form of a RawFrame (docs/wire.md, "JSON form").
type rawFrameJSON struct {
	Machine     string          `json:"machine"`
	Sensor      string          `json:"sensor"`
	SampleRate  float64         `json:"sample_rate"`
	TimestampNs jsonInt         `json:"timestamp_ns"`
	Seq         jsonInt         `json:"seq"`
	Encoding    string          `json:"encoding,omitempty"`
	Scale       float32         `json:"scale,omitempty"`
	Samples     json.RawMessage `json:"samples,omitempty"`
	SamplesB64  string          `json:"samples_b64,omitempty"`
}

// jsonInt is an integer that may arrive as a JSON number or as a decimal
// string (JavaScript cannot hold ns timestamps exactly in a number).
type jsonInt struct {
	neg bool
	u   uint64
}

func (j *jsonInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	j.neg = len(s) > 0 && s[0] == '-'
	if j.neg {
		s = s[1:]
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return errf(ErrJSON, "want an integer, got %.40q", b)
	}
	j.u = u
	return nil
}

func (j *jsonInt) int64() (int64, bool) {
	if j.neg {
		if j.u > 1<<63 {
			return 0, false
		}
		return -int64(j.u-1) - 1, true
	}
	if j.u > math.MaxInt64 {
		return 0, false
	}
	return int64(j.u), true
}

// DecodeRawFrameJSON decodes the JSON form of a raw frame into f and
// validates it. Fields:
//
//	machine       string, required
//	sensor        string
//	sample_rate   number, Hz
//	timestamp_ns  integer or decimal string, Unix ns of the first sample
//	seq           integer or decimal string, >= 0
//	encoding      "float32" (default) or "int16"
//	scale         number, int16 only: physical units per count
//	samples       array of numbers (int16: integers in [-32768, 32767])
//	samples_b64   alternative to samples: standard base64 of the
//	              little-endian sample bytes of the given encoding
//
// Exactly one of samples and samples_b64 must be present; unknown fields
// are an error (a misspelt field should not pass silently). It allocates.
// Errors wrap ErrJSON or one of Validate's sentinels.
func DecodeRawFrameJSON(f *RawFrame, data []byte) error {
	var j rawFrameJSON
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		if errors.Is(err, ErrJSON) {
			return err
		}
		return errf(ErrJSON, "raw frame: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return errf(ErrJSON, "raw frame: data after the JSON object")
	}
	f.Machine, f.Sensor, f.SampleRate = j.Machine, j.Sensor, j.SampleRate
	ts, ok := j.TimestampNs.int64()
	if !ok {
		return errf(ErrJSON, "raw frame: timestamp_ns out of int64 range")
	}
	if j.Seq.neg {
		return errf(ErrJSON, "raw frame: negative seq")
	}
	f.TimestampNs, f.Seq = ts, j.Seq.u
	switch j.Encoding {
	case "", "float32":
		f.Encoding = Float32
	case "int16":
		f.Encoding = Int16
	default:
		return errf(ErrEncoding, "raw frame: encoding %q, want \"float32\" or \"int16\"", j.Encoding)
	}
	f.Scale = 0
	if f.Encoding == Int16 {
		f.Scale = j.Scale
	} else if j.Scale != 0 {
		return errf(ErrScale, "raw frame: scale is only meaningful with encoding int16")
	}
	f.Int16, f.Float32 = f.Int16[:0], f.Float32[:0]
	hasArr := len(j.Samples) > 0 && string(j.Samples) != "null"
	switch {
	case hasArr && j.SamplesB64 != "":
		return errf(ErrJSON, "raw frame: both samples and samples_b64 given")
	case hasArr:
		var xs []float64
		if err := json.Unmarshal(j.Samples, &xs); err != nil {
			return errf(ErrJSON, "raw frame: samples: %v", err)
		}
		if len(xs) > MaxSamples {
			return errf(ErrLength, "raw frame: %d samples, max %d", len(xs), MaxSamples)
		}
		for i, x := range xs {
			if f.Encoding == Int16 {
				if x != math.Trunc(x) || x < math.MinInt16 || x > math.MaxInt16 {
					return errf(ErrLength, "raw frame: int16 sample %d is %v", i, x)
				}
				f.Int16 = append(f.Int16, int16(x))
			} else {
				f.Float32 = append(f.Float32, float32(x))
			}
		}
	case j.SamplesB64 != "":
		raw, err := base64.StdEncoding.DecodeString(j.SamplesB64)
		if err != nil {
			return errf(ErrJSON, "raw frame: samples_b64: %v", err)
		}
		width := 4
		if f.Encoding == Int16 {
			width = 2
		}
		if len(raw)%width != 0 {
			return errf(ErrLength, "raw frame: samples_b64 has %d bytes, not a multiple of %d", len(raw), width)
		}
		n := len(raw) / width
		if n > MaxSamples {
			return errf(ErrLength, "raw frame: %d samples, max %d", n, MaxSamples)
		}
		if f.Encoding == Int16 {
			f.Int16 = resize16(f.Int16, n)
			for i := range f.Int16 {
				f.Int16[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		} else {
			f.Float32 = resize32(f.Float32, n)
			for i := range f.Float32 {
				f.Float32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
	}
	return f.Validate()
}

// AppendRawFrameJSON appends the JSON form of f (with a samples array, and
// "encoding" and "scale" only for int16) to dst. It allocates. It returns an
// error, wrapping ErrNonFinite, when a sample or the rate cannot be written
// as JSON (NaN, ±Inf); call Validate first to get the full check.
func AppendRawFrameJSON(dst []byte, f *RawFrame) ([]byte, error) {
	j := struct {
		Machine     string  `json:"machine"`
		Sensor      string  `json:"sensor"`
		SampleRate  float64 `json:"sample_rate"`
		TimestampNs int64   `json:"timestamp_ns"`
		Seq         uint64  `json:"seq"`
		Encoding    string  `json:"encoding,omitempty"`
		Scale       float32 `json:"scale,omitempty"`
		Samples     any     `json:"samples"`
	}{Machine: f.Machine, Sensor: f.Sensor, SampleRate: f.SampleRate, TimestampNs: f.TimestampNs, Seq: f.Seq}
	switch f.Encoding {
	case Int16:
		j.Encoding, j.Scale, j.Samples = "int16", f.Scale, f.Int16
	case Float32:
		j.Samples = f.Float32
	default:
		return dst, errf(ErrEncoding, "raw frame: encoding %d", f.Encoding)
	}
	b, err := json.Marshal(&j)
	if err != nil {
		return dst, errf(ErrNonFinite, "raw frame: %v", err)
	}
	return append(dst, b...), nil
}
