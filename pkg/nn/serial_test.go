package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

func convNet(seed uint64) *Sequential {
	rng := rand.New(rand.NewPCG(seed, seed))
	return NewSequential(NewConv2D(1, 2, Square(3, 1, 1), rng), NewBatchNorm2D(2), NewReLU(),
		NewFlatten(), NewDense(2*4*4, 3, rng))
}

func TestSaveLoadRoundTrip(t *testing.T) {
	a, b := convNet(1), convNet(2)
	// Give BatchNorm non-default running statistics.
	x := randTensor(rand.New(rand.NewPCG(3, 3)), 5, Shape{1, 4, 4})
	a.Forward(x, true)
	var buf bytes.Buffer
	if err := Save(&buf, a); err != nil {
		t.Fatal(err)
	}
	raw := append([]byte(nil), buf.Bytes()...)
	if err := Load(&buf, b); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("Load left %d bytes", buf.Len())
	}
	ya := append([]float32(nil), a.Forward(x, false).Data...)
	yb := b.Forward(x, false).Data
	for i := range ya {
		if ya[i] != yb[i] {
			t.Fatal("loaded network computes differently")
		}
	}
	// Header and the first tensor name, as documented.
	if string(raw[:8]) != "MHMNNPAR" || binary.LittleEndian.Uint32(raw[8:]) != 1 ||
		binary.LittleEndian.Uint32(raw[12:]) != uint32(len(a.Params())+len(a.State())) {
		t.Fatalf("header % x", raw[:16])
	}
	if n := binary.LittleEndian.Uint16(raw[16:]); string(raw[18:18+n]) != "0.0.weight" {
		t.Fatalf("first tensor %q", raw[18:18+n])
	}

	// Corruptions are refused and leave the layers untouched.
	c := convNet(4)
	before := append([]float32(nil), c.Params()[0].Data...)
	for name, bad := range map[string][]byte{
		"truncated": raw[:len(raw)-7],
		"flipped":   flip(raw, 40),
		"magic":     flip(raw, 0),
		"empty":     nil,
	} {
		if err := Load(bytes.NewReader(bad), c); err == nil {
			t.Errorf("%s: Load accepted it", name)
		}
		for i, v := range c.Params()[0].Data {
			if v != before[i] {
				t.Fatalf("%s: a failed Load changed the weights", name)
			}
		}
	}
	if err := Load(bytes.NewReader(flip(raw, 40)), c); !errors.Is(err, ErrFormat) {
		t.Errorf("checksum error %v does not wrap ErrFormat", err)
	}
	// A different architecture is refused.
	rng := rand.New(rand.NewPCG(1, 1))
	other := NewSequential(NewDense(3, 2, rng))
	if err := Load(bytes.NewReader(raw), other); !errors.Is(err, ErrFormat) {
		t.Errorf("architecture mismatch: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x10
	return c
}

func TestSaveLoadSeveralLayers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	enc, dec := NewSequential(NewDense(4, 3, rng)), NewSequential(NewDense(3, 4, rng), NewBatchNorm(4))
	var buf bytes.Buffer
	if err := Save(&buf, enc, dec); err != nil {
		t.Fatal(err)
	}
	enc2, dec2 := NewSequential(NewDense(4, 3, rng)), NewSequential(NewDense(3, 4, rng), NewBatchNorm(4))
	if err := Load(&buf, enc2, dec2); err != nil {
		t.Fatal(err)
	}
	if enc2.Params()[0].Data[5] != enc.Params()[0].Data[5] || dec2.Params()[0].Data[7] != dec.Params()[0].Data[7] {
		t.Fatal("values not restored")
	}
	// The order matters: swapped layers do not load.
	if err := Load(bytes.NewReader(buf.Bytes()), dec2, enc2); err == nil {
		t.Fatal("swapped layers loaded")
	}
}

// FuzzLoad feeds arbitrary bytes to Load: it must never panic, and what it
// accepts must save back to the same bytes (a round trip).
func FuzzLoad(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	net := NewSequential(NewDense(2, 2, rng), NewBatchNorm(2))
	var buf bytes.Buffer
	Save(&buf, net)
	f.Add(buf.Bytes())
	f.Add([]byte("MHMNNPAR"))
	f.Fuzz(func(t *testing.T, data []byte) {
		net := NewSequential(NewDense(2, 2, rand.New(rand.NewPCG(1, 1))), NewBatchNorm(2))
		if err := Load(bytes.NewReader(data), net); err != nil {
			return
		}
		var out bytes.Buffer
		if err := Save(&out, net); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[:out.Len()]) {
			t.Fatal("accepted stream does not round-trip")
		}
	})
}
