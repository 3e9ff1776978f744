package signal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteWAVRoundTrip writes random signals with WriteWAV and reads them
// back with ReadWAV: float32 bit for bit (NaN and infinities included),
// PCM16 exactly on the 1/32768 grid and within half a code elsewhere, with
// clipping outside full scale.
func TestWriteWAVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		rate  float64
		chans int
		n     int
		enc   WAVEncoding
	}{
		{"float32-mono-16k", 16000, 1, 16001, WAVFloat32},
		{"float32-stereo-25k6", 25600, 2, 2560, WAVFloat32},
		{"pcm16-mono-16k", 16000, 1, 9999, WAVPCM16},
		{"pcm16-3ch-48k", 48000, 3, 1000, WAVPCM16},
		{"float32-one-sample", 8000, 1, 1, WAVFloat32},
		{"pcm16-empty", 8000, 2, 0, WAVPCM16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Signal{Rate: tc.rate}
			for range tc.chans {
				ch := make([]float32, tc.n)
				for i := range ch {
					ch[i] = float32(rng.NormFloat64() * 0.3)
				}
				s.Channels = append(s.Channels, ch)
			}
			if tc.enc == WAVFloat32 && tc.n > 3 {
				s.Channels[0][0] = float32(math.Inf(1))
				s.Channels[0][1] = float32(math.NaN())
				s.Channels[0][2] = 1e30
			}
			if tc.enc == WAVPCM16 && tc.n > 4 {
				s.Channels[0][0], s.Channels[0][1] = 1, -1.5 // clip to 32767 and -32768
				s.Channels[0][2], s.Channels[0][3] = 12345.0/32768, -32768.0/32768
			}
			path := filepath.Join(dir, tc.name+".wav")
			if err := WriteWAV(path, s, tc.enc); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
				t.Fatalf("temporary file left behind: %v", err)
			}
			st, _ := os.Stat(path)
			width := map[WAVEncoding]int{WAVFloat32: 4, WAVPCM16: 2}[tc.enc]
			if want := int64(44 + tc.n*tc.chans*width); st.Size() != want {
				t.Fatalf("file is %d bytes, want %d (canonical 44-byte header + data)", st.Size(), want)
			}
			got, err := ReadWAV(path)
			if tc.n == 0 { // a valid WAV file, which ReadWAV refuses as holding no samples
				if !errors.Is(err, ErrEmpty) {
					t.Fatalf("reading an empty WAV: %v, want ErrEmpty", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Rate != tc.rate || got.NumChannels() != tc.chans || got.Len() != tc.n {
				t.Fatalf("read %g Hz, %d channels of %d; want %g, %d of %d", got.Rate, got.NumChannels(), got.Len(), tc.rate, tc.chans, tc.n)
			}
			for c := range tc.chans {
				for i, v := range s.Channels[c] {
					g := got.Channels[c][i]
					switch tc.enc {
					case WAVFloat32:
						if math.Float32bits(g) != math.Float32bits(v) {
							t.Fatalf("channel %d sample %d: read %v, wrote %v", c, i, g, v)
						}
					case WAVPCM16:
						want := math.Max(-1, math.Min(32767.0/32768, float64(v)))
						if d := math.Abs(float64(g) - want); d > 0.5/32768+1e-12 {
							t.Fatalf("channel %d sample %d: read %v, wrote %v (error %g codes)", c, i, g, v, d*32768)
						}
					}
				}
			}
			if tc.enc == WAVPCM16 && tc.n > 4 {
				want := []float32{32767.0 / 32768, -1, 12345.0 / 32768, -1}
				for i, w := range want {
					if got.Channels[0][i] != w {
						t.Fatalf("sample %d: read %v, want exactly %v", i, got.Channels[0][i], w)
					}
				}
			}
		})
	}
}

// TestEncodeWAVHeader checks the header bytes against the layout of the
// Microsoft RIFF/WAVE specification (a 16 kHz mono float file: byte rate
// 64000, block align 4, 32 bits).
func TestEncodeWAVHeader(t *testing.T) {
	var b bytes.Buffer
	s := &Signal{Rate: 16000, Channels: [][]float32{{0.5, -0.25}}}
	if err := EncodeWAV(&b, s, WAVFloat32); err != nil {
		t.Fatal(err)
	}
	h := b.Bytes()
	le := binary.LittleEndian
	checks := []struct {
		what      string
		got, want uint32
	}{
		{"RIFF size", le.Uint32(h[4:]), 36 + 8},
		{"fmt size", le.Uint32(h[16:]), 16},
		{"format tag", uint32(le.Uint16(h[20:])), 3},
		{"channels", uint32(le.Uint16(h[22:])), 1},
		{"rate", le.Uint32(h[24:]), 16000},
		{"byte rate", le.Uint32(h[28:]), 64000},
		{"block align", uint32(le.Uint16(h[32:])), 4},
		{"bits", uint32(le.Uint16(h[34:])), 32},
		{"data size", le.Uint32(h[40:]), 8},
		{"sample 0", le.Uint32(h[44:]), math.Float32bits(0.5)},
	}
	if string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || string(h[36:40]) != "data" {
		t.Fatalf("chunk ids: %q", h[:40])
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
}

func TestEncodeWAVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *Signal
		enc  WAVEncoding
		want string
		is   error
	}{
		{"nil", nil, WAVFloat32, "no channels", nil},
		{"no channels", &Signal{Rate: 8000}, WAVFloat32, "no channels", nil},
		{"ragged", &Signal{Rate: 8000, Channels: [][]float32{{1, 2}, {1}}}, WAVFloat32, "channel 1 has 1 samples, channel 0 has 2", nil},
		{"fractional rate", &Signal{Rate: 8000.5, Channels: [][]float32{{0}}}, WAVFloat32, "8000.5 Hz", ErrRate},
		{"zero rate", &Signal{Rate: 0, Channels: [][]float32{{0}}}, WAVPCM16, "0 Hz", ErrRate},
		{"NaN in PCM", &Signal{Rate: 8000, Channels: [][]float32{{0, float32(math.NaN())}}}, WAVPCM16, "sample 1 is NaN", nil},
		{"encoding", &Signal{Rate: 8000, Channels: [][]float32{{0}}}, WAVEncoding(7), "unknown encoding", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := EncodeWAV(&b, tc.s, tc.enc)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "signal: encode wav: ") {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
			if b.Len() != 0 {
				t.Fatalf("%d bytes written before the error", b.Len())
			}
		})
	}
	path := filepath.Join(t.TempDir(), "x.wav")
	err := WriteWAV(path, &Signal{Rate: 1.5, Channels: [][]float32{{0}}}, WAVFloat32)
	if err == nil || !strings.Contains(err.Error(), "write "+path) {
		t.Fatalf("WriteWAV error %v does not name the file", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a failed WriteWAV left a file")
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatal("a failed WriteWAV left its temporary file")
	}
}

// BenchmarkEncodeWAV: one second of 16 kHz mono per op; no allocation per
// sample (the 64 KiB buffer and the header are per call).
func BenchmarkEncodeWAV(b *testing.B) {
	s := &Signal{Rate: 16000, Channels: [][]float32{make([]float32, 16000)}}
	for _, enc := range []WAVEncoding{WAVFloat32, WAVPCM16} {
		b.Run(enc.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(16000 * 4)
			for b.Loop() {
				if err := EncodeWAV(io.Discard, s, enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
