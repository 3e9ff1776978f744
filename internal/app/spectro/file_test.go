package spectro

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhmstream/mhm/internal/npy"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/signal"
)

func runVerb(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := FileVerb().Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// TestFileWritesTheFrontEndSpectrogram runs `spectro file` on a recording
// and checks the .npy holds exactly what pkg/feature computes.
func TestFileWritesTheFrontEndSpectrogram(t *testing.T) {
	in := filepath.Join("..", "..", "..", "testdata", "signal", "ext_float32_stereo.good.wav")
	out := filepath.Join(t.TempDir(), "s.npy")
	if _, stderr, err := runVerb(t, "--in", in, "--channel", "1", "--mels", "0", "--n-fft", "256", "--hop", "128", "--out", out); err != nil {
		t.Fatalf("spectro file: %v\n%s", err, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, shape, err := npy.ReadFloat32(f)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signal.Read(in, signal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := feature.DCASE2020()
	cfg.SampleRate = sig.Rate
	cfg.STFT.Mels, cfg.STFT.NFFT, cfg.STFT.Hop = 0, 256, 128
	want, err := feature.Spectrogram(cfg.WithDefaults(), sig.Channel(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != len(want) || shape[1] != 129 {
		t.Fatalf("shape %v, want (%d, 129)", shape, len(want))
	}
	for i, row := range want {
		for j, v := range row {
			if g := got[i*shape[1]+j]; g != v && !(math.IsNaN(float64(g)) && math.IsNaN(float64(v))) {
				t.Fatalf("frame %d bin %d: %v, want %v", i, j, g, v)
			}
		}
	}
}

func TestFileErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join("..", "..", "..", "testdata", "signal", "empty.bad.wav")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing out", []string{"--in", bad}, "--in and --out are required"},
		{"empty wav", []string{"--in", bad, "--out", filepath.Join(dir, "x.npy")}, "empty.bad.wav"},
		{"bad channel", []string{"--in", filepath.Join("..", "..", "..", "testdata", "signal", "ext_float32_stereo.good.wav"), "--channel", "5", "--out", filepath.Join(dir, "x.npy")}, "has 2 channel(s)"},
		{"bad window", []string{"--in", filepath.Join("..", "..", "..", "testdata", "signal", "ext_float32_stereo.good.wav"), "--window", "kaiser", "--out", filepath.Join(dir, "x.npy")}, "kaiser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runVerb(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
