package signal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavSpec describes a WAV file for encodeWAV.
type wavSpec struct {
	tag      uint16 // 1 PCM, 3 float
	ext      bool   // write WAVE_FORMAT_EXTENSIBLE
	bits     int
	channels int
	rate     uint32
	dataSize uint32 // 0: the real size; else written in the data chunk header
	extra    bool   // an odd-sized chunk before data
}

// encodeWAV writes interleaved integer codes (PCM: signed, 8-bit offset by 128 here) or
// float bits as the given format, following the RIFF/WAVE and WAVE_FORMAT_EXTENSIBLE
// layouts (Microsoft's "Multiple Channel Audio Data and WAVE Files").
func encodeWAV(s wavSpec, frames [][]float64) []byte {
	var data bytes.Buffer
	le := binary.LittleEndian
	for _, fr := range frames {
		for _, v := range fr {
			switch {
			case s.tag == 3 && s.bits == 32:
				binary.Write(&data, le, float32(v))
			case s.tag == 3:
				binary.Write(&data, le, v)
			case s.bits == 8:
				data.WriteByte(byte(int(v) + 128))
			case s.bits == 16:
				binary.Write(&data, le, int16(v))
			case s.bits == 24:
				u := uint32(int32(v))
				data.Write([]byte{byte(u), byte(u >> 8), byte(u >> 16)})
			case s.bits == 32:
				binary.Write(&data, le, int32(v))
			}
		}
	}
	block := s.channels * s.bits / 8
	var fmtc bytes.Buffer
	tag := s.tag
	if s.ext {
		tag = 0xFFFE
	}
	binary.Write(&fmtc, le, []uint16{tag, uint16(s.channels)})
	binary.Write(&fmtc, le, []uint32{s.rate, s.rate * uint32(block)})
	binary.Write(&fmtc, le, []uint16{uint16(block), uint16(s.bits)})
	if s.ext {
		binary.Write(&fmtc, le, []uint16{22, uint16(s.bits)})
		binary.Write(&fmtc, le, uint32(1<<s.channels-1))
		binary.Write(&fmtc, le, s.tag)
		fmtc.Write(guidTail)
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	chunk := func(id string, size uint32, b []byte) {
		body.WriteString(id)
		binary.Write(&body, le, size)
		body.Write(b)
		if len(b)%2 == 1 && id != "data" {
			body.WriteByte(0)
		}
	}
	chunk("fmt ", uint32(fmtc.Len()), fmtc.Bytes())
	if s.extra {
		chunk("junk", 5, []byte("odd!!"))
	}
	size := uint32(data.Len())
	if s.dataSize != 0 {
		size = s.dataSize
	}
	chunk("data", size, data.Bytes())
	out := append([]byte("RIFF"), le.AppendUint32(nil, uint32(body.Len()))...)
	return append(out, body.Bytes()...)
}

// wavCodes returns random frames of codes valid for the format, with the extremes.
func wavCodes(r *rand.Rand, s wavSpec, n int) [][]float64 {
	frames := make([][]float64, n)
	for i := range frames {
		frames[i] = make([]float64, s.channels)
		for c := range frames[i] {
			if s.tag == 3 {
				frames[i][c] = r.NormFloat64()
				if s.bits == 32 {
					frames[i][c] = float64(float32(frames[i][c]))
				}
				continue
			}
			lo := -math.Ldexp(1, s.bits-1)
			frames[i][c] = lo + float64(r.Uint64N(1<<s.bits))
			if i == 0 {
				frames[i][c] = lo
			} else if i == 1 {
				frames[i][c] = -lo - 1
			}
		}
	}
	return frames
}

// wantSample is the documented scaling: code / 2^(bits-1) for PCM, the value for float.
func wantSample(s wavSpec, v float64) float32 {
	if s.tag == 3 {
		return float32(v)
	}
	return float32(v / math.Ldexp(1, s.bits-1))
}

var wavSpecs = []wavSpec{
	{tag: 1, bits: 8, channels: 1, rate: 8000},
	{tag: 1, bits: 16, channels: 1, rate: 16000},
	{tag: 1, bits: 16, channels: 2, rate: 44100, extra: true},
	{tag: 1, bits: 24, channels: 3, rate: 48000},
	{tag: 1, bits: 32, channels: 2, rate: 96000, ext: true},
	{tag: 3, bits: 32, channels: 1, rate: 25600},
	{tag: 3, bits: 64, channels: 2, rate: 12000, ext: true},
	{tag: 1, bits: 24, channels: 8, rate: 51200, ext: true},
}

// FuzzDecodeWAV round-trips random samples of every supported layout through encodeWAV
// and checks that arbitrary bytes never make DecodeWAV panic.
func FuzzDecodeWAV(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*.wav"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(0))
	}
	for seed := range uint64(16) {
		f.Add([]byte(nil), seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64) {
		if len(raw) > 0 {
			s, err := DecodeWAV(bytes.NewReader(raw))
			if err == nil && (s.Len() == 0 || s.Rate <= 0) {
				t.Fatalf("no error for an empty signal: %+v", s)
			}
			return
		}
		r := rand.New(rand.NewPCG(seed, 2))
		spec := wavSpecs[r.IntN(len(wavSpecs))]
		frames := wavCodes(r, spec, 1+r.IntN(3000))
		b := encodeWAV(spec, frames)
		for _, dec := range []func([]byte) (*Signal, error){
			func(b []byte) (*Signal, error) { return DecodeWAV(bytes.NewReader(b)) },
			func(b []byte) (*Signal, error) { return decodeWAV(bytes.NewReader(b), int64(len(b))) },
		} {
			s, err := dec(b)
			if err != nil {
				t.Fatalf("%+v: %v", spec, err)
			}
			if s.Rate != float64(spec.rate) || s.NumChannels() != spec.channels || s.Len() != len(frames) {
				t.Fatalf("%+v: rate %g, %d channels × %d, want %d × %d", spec, s.Rate, s.NumChannels(), s.Len(), spec.channels, len(frames))
			}
			for i, fr := range frames {
				for c, v := range fr {
					if got, want := s.Channel(c)[i], wantSample(spec, v); got != want {
						t.Fatalf("%+v: frame %d channel %d = %v, want %v", spec, i, c, got, want)
					}
				}
			}
			// Cut inside the data: ErrTruncated, saying how much is there.
			cut := len(b) - 1 - r.IntN(len(frames)*spec.channels*spec.bits/8)
			_, err = dec(b[:cut])
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), fmt.Sprintf("file has %d", cut-(len(b)-len(frames)*spec.channels*spec.bits/8))) {
				t.Fatalf("%+v cut at %d of %d: %v", spec, cut, len(b), err)
			}
		}
	})
}

func TestWAVStreamingSize(t *testing.T) {
	// Streaming writers put 0xFFFFFFFF in the data size: read to the end of the file,
	// whole frames only.
	r := rand.New(rand.NewPCG(1, 1))
	spec := wavSpec{tag: 1, bits: 16, channels: 2, rate: 16000, dataSize: 0xFFFFFFFF}
	frames := wavCodes(r, spec, 70000) // more than one 64 KiB block
	b := encodeWAV(spec, frames)
	b = append(b, 0x01) // a partial trailing frame is dropped
	for name, dec := range map[string]func([]byte) (*Signal, error){
		"DecodeWAV": func(b []byte) (*Signal, error) { return DecodeWAV(bytes.NewReader(b)) },
		"sized":     func(b []byte) (*Signal, error) { return decodeWAV(bytes.NewReader(b), int64(len(b))) },
	} {
		s, err := dec(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Len() != len(frames) || s.Channel(1)[69999] != wantSample(spec, frames[69999][1]) {
			t.Errorf("%s: %d frames, last %v", name, s.Len(), s.Channel(1)[s.Len()-1])
		}
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdata, "truncated_data.bad.wav"))
	if err != nil {
		t.Fatal(err)
	}
	// Without a known size the same message comes from reading up to the end.
	_, err = DecodeWAV(bytes.NewReader(b))
	if want := "signal: decode wav: truncated data chunk: header says 320000 bytes, file has 1200"; err == nil || err.Error() != want {
		t.Errorf("DecodeWAV error %q, want %q", err, want)
	}
	if _, err := DecodeWAV(bytes.NewReader(nil)); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := DecodeWAV(strings.NewReader("RIFF")); !errors.Is(err, ErrTruncated) {
		t.Errorf("4 bytes: %v", err)
	}
	if _, err := DecodeWAV(strings.NewReader("RIFX\x00\x00\x00\x00WAVE")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RIFX: %v", err)
	}
	if _, err := DecodeWAV(strings.NewReader("RIFF\x00\x00\x00\x00AVI ")); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `type "AVI "`) {
		t.Errorf("AVI: %v", err)
	}
}

// benchWAV writes a WAV file of the given layout and length into a temporary folder.
func benchWAV(b *testing.B, spec wavSpec, seconds int) string {
	r := rand.New(rand.NewPCG(1, 1))
	path := filepath.Join(b.TempDir(), "bench.wav")
	if err := os.WriteFile(path, encodeWAV(spec, wavCodes(r, spec, seconds*int(spec.rate))), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReadWAV reads whole files (DCASE's 10 s of 16 kHz 16-bit mono, and a
// 24-bit stereo and a float32 one); MB/s is of file bytes.
func BenchmarkReadWAV(b *testing.B) {
	for _, bc := range []struct {
		name string
		spec wavSpec
		sec  int
	}{
		{"pcm16_mono_16k_10s", wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000}, 10},
		{"pcm16_mono_16k_60s", wavSpec{tag: 1, bits: 16, channels: 1, rate: 16000}, 60},
		{"pcm24_stereo_48k_10s", wavSpec{tag: 1, bits: 24, channels: 2, rate: 48000}, 10},
		{"float32_stereo_25k6_10s", wavSpec{tag: 3, bits: 32, channels: 2, rate: 25600}, 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := benchWAV(b, bc.spec, bc.sec)
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadWAV(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
