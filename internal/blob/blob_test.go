package blob

import (
	"errors"
	"testing"
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
