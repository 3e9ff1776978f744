package vae

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

// smallTrained returns a trained conv VAE with bands, BatchNorm and a
// learned variance (every part of the blob in use), and test patches.
func smallTrained(t testing.TB, cfg Config) (*Model, []float32, []int) {
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 64
	x := make([]float32, n*m.InputDim())
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	bands := make([]int, n)
	for i := range bands {
		bands[i] = i % max(1, m.Bands())
	}
	if _, err := m.Train(x, bands, n, &TrainConfig{Epochs: 2, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	return m, x, bands
}

var blobConfigs = []Config{
	{T: 4, F: 6, Latent: 3, Hidden: []int{8}, Bands: 3, BatchNorm: true, Conv: &ConvConfig{Channels: []int{2, 3}}},
	{T: 1, F: 5, Latent: 2, Hidden: []int{4, 4}, Decoder: Bernoulli, Activation: ELU},
	{T: 2, F: 3, Latent: 2, Decoder: GaussianFixed, DecoderLogVar: -1, NoStandardize: true},
}

// TestMarshalRoundTrip checks that an unmarshalled model has the same
// config, standardiser and weights, and scores bit-identically.
func TestMarshalRoundTrip(t *testing.T) {
	for _, cfg := range blobConfigs {
		m, x, bands := smallTrained(t, cfg)
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		u, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m.Config(), u.Config()) {
			t.Errorf("config %+v, unmarshalled %+v", m.Config(), u.Config())
		}
		if !reflect.DeepEqual(m.Standardizer(), u.Standardizer()) {
			t.Errorf("standardizer differs")
		}
		if b2, _ := u.MarshalBinary(); !bytes.Equal(b, b2) {
			t.Error("re-marshalled blob differs")
		}
		for _, typ := range ScoreTypes() {
			cfg := ScoreConfig{Type: typ, Samples: 4}
			a, c := scoreWith(t, m, cfg, x, bands), scoreWith(t, u, cfg, x, bands)
			if !reflect.DeepEqual(a, c) {
				t.Errorf("%s: scores %v, after round trip %v", typ, a[:3], c[:3])
			}
		}
	}
}

// TestUnmarshalCorrupt checks that every truncation and every single-bit
// flip of a blob, and blobs with a valid checksum but bad content, are
// errors wrapping ErrFormat, never panics.
func TestUnmarshalCorrupt(t *testing.T) {
	m, _, _ := smallTrained(t, blobConfigs[0])
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		if _, err := Unmarshal(b[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(b), err)
		}
	}
	for i := 0; i < len(b); i += 7 {
		c := append([]byte(nil), b...)
		c[i] ^= 1 << (i % 8)
		if _, err := Unmarshal(c); !errors.Is(err, ErrFormat) {
			t.Fatalf("bit flip at byte %d: %v", i, err)
		}
	}
	// Valid checksums around bad content.
	reseal := func(body []byte) []byte {
		return binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.ChecksumIEEE(body))
	}
	part := func(cfg []byte, std []byte, params []byte) []byte {
		var p []byte
		p = append(p, blobMagic[:]...)
		p = binary.LittleEndian.AppendUint32(p, blobVersion)
		p = binary.LittleEndian.AppendUint32(p, uint32(len(cfg)))
		p = append(p, cfg...)
		p = binary.LittleEndian.AppendUint32(p, uint32(len(std)))
		p = append(p, std...)
		p = binary.LittleEndian.AppendUint64(p, uint64(len(params)))
		return reseal(append(p, params...))
	}
	good, _ := json.Marshal(m.cfg)
	std, _ := m.std.MarshalBinary()
	var params bytes.Buffer
	if err := nn.Save(&params, m.layers(true)...); err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(part(good, std, params.Bytes())); err != nil {
		t.Fatalf("rebuilt blob: %v", err)
	}
	huge, _ := json.Marshal(Config{T: 1, F: 1024, Latent: 8, Hidden: []int{8192, 8192}})
	other, _ := json.Marshal(Config{T: 4, F: 6, Latent: 2})
	version := append([]byte(nil), b[:len(b)-4]...)
	binary.LittleEndian.PutUint32(version[8:], 2)
	std2, _ := norm.Identity(2).MarshalBinary()
	long := part(good, std, nil)
	long = long[:len(long)-4]
	binary.LittleEndian.PutUint64(long[len(long)-8:], 1<<40)
	for name, blob := range map[string][]byte{
		"bad JSON":             part([]byte("{"), std, params.Bytes()),
		"unknown field":        part([]byte(`{"t":4,"f":6,"latent":3,"colour":1}`), std, params.Bytes()),
		"invalid config":       part([]byte(`{"t":0,"f":6,"latent":3}`), std, params.Bytes()),
		"config needs more":    part(huge, std, params.Bytes()),
		"other architecture":   part(other, std, params.Bytes()),
		"bad standardizer":     part(good, std[:10], params.Bytes()),
		"standardizer size":    part(good, std2, params.Bytes()),
		"short parameters":     part(good, std, params.Bytes()[:params.Len()-5]),
		"trailing parameters":  part(good, std, append(append([]byte(nil), params.Bytes()...), 0)),
		"trailing bytes":       reseal(append(append([]byte(nil), b[:len(b)-4]...), 1, 2, 3)),
		"version 2":            reseal(version),
		"magic":                reseal(append([]byte("NOTAVAE!"), b[8:len(b)-4]...)),
		"parameter length big": reseal(long),
	} {
		if _, err := Unmarshal(blob); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// FuzzUnmarshal checks that Unmarshal never panics and that whatever it
// accepts marshals back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, cfg := range blobConfigs {
		m, _, _ := smallTrained(f, cfg)
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		c, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, c) {
			t.Fatal("accepted blob does not round-trip")
		}
	})
}

// TestGeometryCountsParameters checks the parameter count that Unmarshal
// compares with the blob's size before it builds anything: it must be
// exactly the number of values nn.Save writes.
func TestGeometryCountsParameters(t *testing.T) {
	for _, cfg := range append(blobConfigs, DCASE(),
		Config{T: 5, F: 7, Latent: 2, Bands: 4, BatchNorm: true, Conv: &ConvConfig{Channels: []int{3, 4, 2}, KernelT: 2, KernelF: 5, StrideT: 2, StrideF: 3}},
		Config{T: 5, F: 7, Latent: 2, Hidden: []int{6, 5}, Conv: &ConvConfig{Channels: []int{3}}}) {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, p := range append(nn.CollectParams(m.layers(true)...), nn.CollectState(m.layers(true)...)...) {
			want += len(p.Data)
		}
		if m.geom.params != want {
			t.Errorf("%+v: geometry counts %d parameters, the layers hold %d", cfg, m.geom.params, want)
		}
	}
}

// TestEstimatorsConcurrent scores with several Estimators of one model in
// parallel goroutines (run with -race): they share no state, so each gives
// the sequential result.
func TestEstimatorsConcurrent(t *testing.T) {
	m, x, bands := smallTrained(t, blobConfigs[0])
	cfg := ScoreConfig{Type: LogEvidence, Samples: 8}
	want := scoreWith(t, m, cfg, x, bands)
	got := make([][]float64, 4)
	done := make(chan struct{})
	for g := range got {
		e, err := m.NewScorer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer func() { done <- struct{}{} }()
			s := make([]float64, len(want))
			for range 5 {
				e.ScoreBands(s, nil, x, bands, len(want))
			}
			got[g] = s
		}()
	}
	for range got {
		<-done
	}
	for g := range got {
		if !reflect.DeepEqual(got[g], want) {
			t.Errorf("goroutine %d: scores differ from the sequential ones", g)
		}
	}
}
