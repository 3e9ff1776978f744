package model

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/threshold"
)

func testArtifact(t *testing.T) *Artifact {
	t.Helper()
	th, err := threshold.Fit(threshold.Quantile, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	return &Artifact{
		Meta: Meta{
			Machine: "pump-01", Kind: DenseAE, Feature: feature.DCASE2020(),
			Score: ScoreSpec{Type: "mse"}, Threshold: th,
			Decision: Decision{Window: threshold.WindowConfig{LengthNs: 1e9}},
			Created:  time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		},
		Weights: []byte("weights of the network"),
	}
}

func TestEncodeDecodeRoundTripAndVersion(t *testing.T) {
	a := testArtifact(t)
	b, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Meta.Version, "pump-01@") || len(a.Meta.Version) != len("pump-01@")+12 {
		t.Errorf("version %q", a.Meta.Version)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Version != a.Meta.Version || string(got.Weights) != string(a.Weights) || got.Meta.Threshold.Value != a.Meta.Threshold.Value {
		t.Errorf("round trip changed the artifact: %+v", got.Meta)
	}
	if err := got.Matches(feature.DCASE2020().Hash()); err != nil {
		t.Errorf("own features: %v", err)
	}
	if err := got.Matches(feature.Vibration(25600).Hash()); !errors.Is(err, ErrMismatch) {
		t.Errorf("other features: %v", err)
	}
	// Same content, same version; other weights, other version.
	b2, _ := testArtifact(t).Encode()
	if string(b2) != string(b) {
		t.Error("encoding is not deterministic")
	}
	c := testArtifact(t)
	c.Weights = []byte("other weights")
	c.Encode()
	if c.Meta.Version == a.Meta.Version {
		t.Error("different weights share a version")
	}
}

func TestDecodeRejectsBadFiles(t *testing.T) {
	b, err := testArtifact(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	flip := append([]byte(nil), b...)
	flip[len(flip)/2] ^= 0x40
	newer := append([]byte(nil), b...)
	newer[len(Magic)] = FormatVersion + 1
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"not a model", []byte("RIFF....WAVEfmt "), ErrFormat},
		{"magic only", b[:4], ErrTruncated},
		{"truncated meta", b[:20], ErrTruncated},
		{"truncated weights", b[:len(b)-10], ErrTruncated},
		{"no checksum", b[:len(b)-4], ErrTruncated},
		{"bit flip", flip, ErrChecksum},
		{"newer format", newer, ErrNewer},
		{"trailing bytes", append(append([]byte(nil), b...), 0), ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Every truncation is an error, never a panic.
	for i := range b {
		if _, err := Decode(b[:i]); err == nil {
			t.Fatalf("Decode of the first %d bytes succeeded", i)
		}
	}
}

func TestWriteReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pump.mhm")
	a := testArtifact(t)
	if err := a.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Version != a.Meta.Version {
		t.Errorf("version %s, want %s", got.Meta.Version, a.Meta.Version)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.mhm")); err == nil || !strings.Contains(err.Error(), "missing.mhm") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	th, _ := threshold.Fit(threshold.MeanStd, []float64{1, 2, 3}, 3)
	a := &Artifact{Meta: Meta{Machine: "m", Kind: VAE, Feature: feature.DCASE2020(), Threshold: th}, Weights: []byte{1, 2, 3}}
	b, err := a.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		again, err := a.Encode()
		if err != nil {
			t.Fatalf("decoded artifact does not encode: %v", err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded artifact does not decode: %v", err)
		}
	})
}
