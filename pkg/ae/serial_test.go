package ae

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
)

// TestSaveLoadScoresIdentical: save → load → bit-identical scores,
// per-feature errors and codes, the same config and re-serialisation, for
// every kind.
func TestSaveLoadScoresIdentical(t *testing.T) {
	for name, cfg := range small() {
		t.Run(name, func(t *testing.T) {
			m, x, n := trainSmall(t, cfg, 21)
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			l, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Config(), m.Config()) {
				t.Fatalf("config %+v, want %+v", l.Config(), m.Config())
			}
			d := m.InputDim()
			s1, s2 := make([]float64, n), make([]float64, n)
			p1, p2 := make([]float32, n*d), make([]float32, n*d)
			m.NewScorer().Score(s1, p1, x, n)
			l.NewScorer().Score(s2, p2, x, n)
			if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(p1, p2) {
				t.Fatal("scores differ after save and load")
			}
			if b2 := must(l.MarshalBinary()); !bytes.Equal(b, b2) {
				t.Fatal("re-serialisation differs")
			}
		})
	}
}

// reseal rewrites the trailing CRC of a blob after a deliberate change.
func reseal(b []byte) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

// sections splits a blob into config, standardiser and weights.
func sections(b []byte) (cfg, std, w []byte) {
	r := b[12:]
	n := binary.LittleEndian.Uint32(r)
	cfg, r = r[4:4+n], r[4+n:]
	n = binary.LittleEndian.Uint32(r)
	std, r = r[4:4+n], r[4+n:]
	n64 := binary.LittleEndian.Uint64(r)
	w = r[8 : 8+n64]
	return
}

// assemble builds a sealed blob from sections.
func assemble(version uint32, cfg, std, w []byte) []byte {
	b := append([]byte(nil), modelMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cfg)))
	b = append(b, cfg...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(std)))
	b = append(b, std...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(w)))
	b = append(b, w...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func TestUnmarshalErrors(t *testing.T) {
	m, _, _ := trainSmall(t, small()["dense"], 22)
	good := must(m.MarshalBinary())
	cfg, std, w := sections(good)
	if !bytes.Equal(assemble(FormatVersion, cfg, std, w), good) {
		t.Fatal("test helpers do not reproduce the format")
	}
	raw, _, _ := trainSmall(t, small()["raw"], 22)
	_, _, rawW := sections(must(raw.MarshalBinary()))
	otherCfg := bytes.Replace(cfg, []byte(`"code":3`), []byte(`"code":4`), 1)

	for _, c := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrFormat, "too short"},
		{"magic", append([]byte("MHMNNPAR"), good[8:]...), ErrFormat, "magic"},
		{"newer version", reseal(assemble(FormatVersion+1, cfg, std, w)), ErrVersion, "newer"},
		{"version 0", assemble(0, cfg, std, w), ErrFormat, "version 0"},
		{"checksum", func() []byte { b := append([]byte(nil), good...); b[len(b)-1] ^= 1; return b }(), ErrFormat, "checksum"},
		{"config JSON", assemble(1, []byte(`{"kind":`), std, w), ErrFormat, "config"},
		{"unknown field", assemble(1, bytes.Replace(cfg, []byte(`{`), []byte(`{"layers":3,`), 1), std, w), ErrFormat, "unknown field"},
		{"invalid config", assemble(1, bytes.Replace(cfg, []byte(`"code":3`), []byte(`"code":-3`), 1), std, w), ErrFormat, "code width"},
		{"huge config", assemble(1, bytes.Replace(cfg, []byte(`"bins":8`), []byte(`"bins":200000`), 1), std, w), ErrFormat, "weights section"},
		{"weights of another architecture", assemble(1, otherCfg, std, w), ErrFormat, "weights"},
		{"weights of a smaller model", assemble(1, cfg, std, rawW), ErrFormat, ""},
		{"missing standardizer", assemble(1, cfg, nil, w), ErrFormat, "standardizer missing"},
		{"bad standardizer", assemble(1, cfg, std[:len(std)-4], w), ErrFormat, "norm"},
		{"trailing bytes", reseal(append(good[:len(good)-4:len(good)-4], 0, 0, 0, 0, 0)), ErrFormat, "unexpected bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Unmarshal(c.b)
			if m != nil || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Unmarshal: model %v, error %v; want %v with %q", m != nil, err, c.want, c.msg)
			}
		})
	}
}

// TestUnmarshalTruncatedAndCorrupt: every truncation and every single-bit
// flip of a valid blob is an error, never a panic or a silently different
// model.
func TestUnmarshalTruncatedAndCorrupt(t *testing.T) {
	m, _, _ := trainSmall(t, small()["caes"], 23)
	good := must(m.MarshalBinary())
	for n := 0; n < len(good); n++ {
		if _, err := Unmarshal(good[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(good), err)
		}
	}
	for i := 0; i < len(good); i++ {
		bit := byte(1) << (i % 8)
		b := append([]byte(nil), good...)
		b[i] ^= bit
		if _, err := Unmarshal(b); err == nil {
			t.Fatalf("flipping bit %d of byte %d went unnoticed", i%8, i)
		}
	}
}

// FuzzUnmarshal: arbitrary bytes never panic, and a model that is
// accepted serialises to a blob that loads back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for name, cfg := range small() {
		m, _, _ := trainSmall(f, cfg, 24)
		f.Add(must(m.MarshalBinary()))
		_ = name
	}
	f.Add([]byte("MHMAEMDL\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		b2 := must(m.MarshalBinary())
		m2, err := Unmarshal(b2)
		if err != nil {
			t.Fatalf("re-serialised model does not load: %v", err)
		}
		if !bytes.Equal(must(m2.MarshalBinary()), b2) {
			t.Fatal("accepted model does not round-trip")
		}
	})
}

// FuzzUnmarshalConfig fuzzes the config section behind a valid checksum,
// which random bytes almost never reach: Unmarshal must reject bad configs
// with an error, never panic or allocate beyond the blob.
func FuzzUnmarshalConfig(f *testing.F) {
	var std, w []byte
	for _, cfg := range small() {
		m, _, _ := trainSmall(f, cfg, 25)
		c, s, ww := sections(must(m.MarshalBinary()))
		f.Add(c)
		std, w = s, ww
	}
	f.Fuzz(func(t *testing.T, cfg []byte) {
		m, err := Unmarshal(assemble(FormatVersion, cfg, std, w))
		if err == nil && m.InputDim() < 1 {
			t.Fatal("accepted a model without inputs")
		}
	})
}
