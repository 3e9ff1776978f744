package blob

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

var magic = [8]byte{'M', 'H', 'M', 'T', 'E', 'S', 'T', '1'}

func TestRoundTripAndErrors(t *testing.T) {
	in := Sections{Config: []byte(`{"a":1}`), Std: []byte{1, 2, 3}, Weights: []byte("weights")}
	b := Encode(magic, 2, in)
	s, err := Decode(b, magic, 2, "a test model")
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Config) != string(in.Config) || string(s.Std) != string(in.Std) || string(s.Weights) != string(in.Weights) {
		t.Fatalf("round trip: %+v", s)
	}
	if _, err := Decode(b, magic, 1, "a test model"); !errors.Is(err, ErrNewer) {
		t.Errorf("newer version: %v", err)
	}
	if _, err := Decode(b, magic, 3, "a test model"); !errors.Is(err, ErrFormat) {
		t.Errorf("older version: %v", err)
	}
	other := magic
	other[7] = '2'
	if _, err := Decode(b, other, 2, "another model"); !errors.Is(err, ErrFormat) {
		t.Errorf("other magic: %v", err)
	}
	for i := range b {
		if _, err := Decode(b[:i], magic, 2, "x"); !errors.Is(err, ErrFormat) {
			t.Fatalf("first %d bytes: %v", i, err)
		}
		flip := append([]byte(nil), b...)
		flip[i] ^= 0x10
		if _, err := Decode(flip, magic, 2, "x"); err == nil {
			t.Fatalf("bit flip at %d accepted", i)
		}
	}
	empty := Encode(magic, 2, Sections{})
	if s, err := Decode(empty, magic, 2, "x"); err != nil || len(s.Config)+len(s.Std)+len(s.Weights) != 0 {
		t.Errorf("empty sections: %+v %v", s, err)
	}
}

func TestDecodeConfig(t *testing.T) {
	var v struct{ A int }
	if err := DecodeConfig([]byte(`{"A":3}`), &v); err != nil || v.A != 3 {
		t.Fatalf("%v %+v", err, v)
	}
	for _, bad := range []string{`{"B":1}`, `{"A":1}{}`, `{`} {
		if err := DecodeConfig([]byte(bad), &v); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestMarshalModel round-trips a model's three parts through Marshal,
// Standardizer and LoadWeights, and checks their refusals.
func TestMarshalModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	d := nn.NewDense(3, 2, rng)
	std := norm.Fit([]float32{1, 2, 3, 4, 6, 8}, 2, 3, 1e-6)
	b, err := Marshal(magic, 1, map[string]int{"in": 3}, std, d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Decode(b, magic, 1, "a test model")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]int
	if err := DecodeConfig(s.Config, &cfg); err != nil || cfg["in"] != 3 {
		t.Fatalf("config %v, %v", cfg, err)
	}
	got, err := s.Standardizer(3)
	if err != nil || got.Dim() != 3 || got.Mean[1] != std.Mean[1] {
		t.Fatalf("standardizer %+v, %v", got, err)
	}
	if _, err := s.Standardizer(4); !errors.Is(err, ErrFormat) {
		t.Errorf("standardizer of the wrong size: %v", err)
	}
	e := nn.NewDense(3, 2, rand.New(rand.NewPCG(2, 2)))
	if err := s.LoadWeights(e); err != nil || e.W[0] != d.W[0] || e.B[1] != d.B[1] {
		t.Fatalf("weights: %v", err)
	}
	if err := s.LoadWeights(nn.NewDense(3, 1, rng)); !errors.Is(err, ErrFormat) {
		t.Errorf("weights for a smaller layer (bytes left over): %v", err)
	}
	if err := s.LoadWeights(nn.NewDense(3, 3, rng)); !errors.Is(err, ErrFormat) {
		t.Errorf("weights for a larger layer: %v", err)
	}
	none, _ := Marshal(magic, 1, 0, nil, d)
	if s, _ := Decode(none, magic, 1, "a test model"); len(s.Std) != 0 {
		t.Error("a model without a standardizer has a std section")
	} else if got, err := s.Standardizer(3); got != nil || err != nil {
		t.Errorf("empty std section: %v, %v", got, err)
	}
}
