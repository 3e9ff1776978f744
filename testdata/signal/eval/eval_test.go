// Package eval compares github.com/go-audio/wav v1.1.0 and encoding/csv with pkg/signal's
// own readers: the evaluation behind docs/signal.md. It is a separate module under
// testdata (ignored by ./... and by the main go.mod), so the library under evaluation
// is not a dependency of mhm. Run it with
//
//	cd testdata/signal/eval && go test -v -run Behaviour . && go test -run '^$' -bench . -benchtime 10x -count 3 .
package eval

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-audio/wav"
	"github.com/mhmstream/mhm/pkg/signal"
)

// TestBehaviour decodes every test WAV with both readers and logs what each returns.
func TestBehaviour(t *testing.T) {
	files, _ := filepath.Glob("../*.wav")
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d := wav.NewDecoder(f)
		buf, gaErr := d.FullPCMBuffer()
		f.Close()
		ga := "error: " + fmt.Sprint(gaErr)
		if gaErr == nil {
			n := len(buf.Data)
			ga = fmt.Sprintf("ok, %d values, first %v", n, buf.Data[:min(n, 2)])
		}
		s, err := signal.ReadWAV(path)
		own := fmt.Sprint("error: ", err)
		if err == nil {
			own = fmt.Sprintf("ok, %d×%d, first %v", s.NumChannels(), s.Len(), s.Channel(0)[:min(s.Len(), 2)])
		}
		t.Logf("| %s | fmt 0x%X, %d bit | go-audio: %s | signal: %s |", filepath.Base(path), d.WavAudioFormat, d.BitDepth, ga, own)
	}
}

// dcaseLike writes 10 s of 16 kHz 16-bit mono PCM, the layout of a DCASE clip.
func dcaseLike(b *testing.B) (string, int64) {
	r := rand.New(rand.NewPCG(1, 1))
	pcm := make([]byte, 2*160000)
	for i := 0; i < len(pcm); i += 2 {
		binary.LittleEndian.PutUint16(pcm[i:], uint16(int16(r.NormFloat64()*3000)))
	}
	var h bytes.Buffer
	h.WriteString("RIFF")
	binary.Write(&h, binary.LittleEndian, uint32(36+len(pcm)))
	h.WriteString("WAVEfmt ")
	binary.Write(&h, binary.LittleEndian, []uint32{16, 1 | 1<<16, 16000, 32000, 2 | 16<<16})
	h.WriteString("data")
	binary.Write(&h, binary.LittleEndian, uint32(len(pcm)))
	h.Write(pcm)
	p := filepath.Join(b.TempDir(), "clip.wav")
	if err := os.WriteFile(p, h.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return p, int64(h.Len())
}

func goAudio(b *testing.B, r io.ReadSeeker) {
	buf, err := wav.NewDecoder(r).FullPCMBuffer()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float32, len(buf.Data)) // to float32 in [-1, 1), as pkg/signal returns
	for i, v := range buf.Data {
		out[i] = float32(v) / 32768
	}
}

func BenchmarkWAV(b *testing.B) {
	path, n := dcaseLike(b)
	b.Run("go-audio_file", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			f, _ := os.Open(path)
			goAudio(b, f)
			f.Close()
		}
	})
	b.Run("go-audio_memory", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			raw, _ := os.ReadFile(path)
			goAudio(b, bytes.NewReader(raw))
		}
	})
	b.Run("signal", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := signal.ReadWAV(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCSV: 100,000 rows of two "%.6f" columns.
func BenchmarkCSV(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	var text []byte
	for range 100000 {
		text = fmt.Appendf(text, "%.6f,%.6f\n", r.NormFloat64(), r.NormFloat64())
	}
	path := filepath.Join(b.TempDir(), "x.csv")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("encoding_csv", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			f, _ := os.Open(path)
			cr := csv.NewReader(f)
			cr.ReuseRecord = true
			var ch [2][]float32
			for {
				rec, err := cr.Read()
				if err == io.EOF {
					break
				}
				for c := range 2 {
					v, _ := strconv.ParseFloat(rec[c], 32)
					ch[c] = append(ch[c], float32(v))
				}
			}
			f.Close()
		}
	})
	b.Run("signal", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := signal.ReadCSV(path, 1000); err != nil {
				b.Fatal(err)
			}
		}
	})
}
