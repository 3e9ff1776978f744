package signal

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestAllocsDoNotGrowWithLength proves that no reader allocates per sample: reading a
// file 10 times longer costs the same number of allocations (the bytes grow, the count
// does not).
func TestAllocsDoNotGrowWithLength(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts: skipped in -short")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 1))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvText := func(rows int) []byte {
		var b []byte
		for range rows {
			b = fmt.Appendf(b, "%.5f;%.5f;%.5f\n", r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
		}
		return b
	}
	spec := wavSpec{tag: 1, bits: 24, channels: 2, rate: 48000}
	mat := func(n int) []byte {
		v := matVar{name: "X097_DE_time", class: "double", store: "double", dims: []int{n, 1}, data: make([]float64, n)}
		return encodeMAT(binary.LittleEndian, []matVar{v}, false)
	}
	for _, tc := range []struct {
		name         string
		small, large string
		read         func(string) error
	}{
		{"wav", write("s.wav", encodeWAV(spec, wavCodes(r, spec, 20000))), write("l.wav", encodeWAV(spec, wavCodes(r, spec, 200000))),
			func(p string) error { _, err := ReadWAV(p); return err }},
		{"femto", write("acc_1.csv", femtoText(2560)), write("acc_2.csv", femtoText(25600)),
			func(p string) error { _, err := ReadFEMTO(p); return err }},
		{"csv", write("s.csv", csvText(5000)), write("l.csv", csvText(50000)),
			func(p string) error { _, err := ReadCSV(p, 1000); return err }},
		{"mat", write("48k_s.mat", mat(24000)), write("48k_l.mat", mat(240000)),
			func(p string) error { _, err := ReadMAT(p, Options{}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count := func(p string) float64 {
				return testing.AllocsPerRun(3, func() {
					if err := tc.read(p); err != nil {
						t.Fatal(err)
					}
				})
			}
			small, large := count(tc.small), count(tc.large)
			if large > small+1 {
				t.Errorf("%g allocations for the small file, %g for the 10× larger one", small, large)
			}
			t.Logf("%s: %g allocs (small), %g (10× larger)", tc.name, small, large)
		})
	}
}

// BenchmarkReadMAT reads a CWRU-like file: two 243,938 × 1 double variables and a
// uint16 scalar (as normal_0_97.mat), plain and compressed; MB/s is of file bytes.
func BenchmarkReadMAT(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 243938
	vars := []matVar{
		{name: "X097_DE_time", class: "double", store: "double", dims: []int{n, 1}},
		{name: "X097_FE_time", class: "double", store: "double", dims: []int{n, 1}},
		{name: "X097RPM", class: "double", store: "uint16", dims: []int{1, 1}, data: []float64{1796}},
	}
	for i := range 2 {
		for range n {
			// 12-bit-like values as the CWRU recorder gives (few distinct values).
			vars[i].data = append(vars[i].data, float64(r.IntN(4096)-2048)/6500)
		}
	}
	for _, compress := range []bool{false, true} {
		b.Run(fmt.Sprintf("compressed=%v", compress), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "normal_0_97.mat")
			data := encodeMAT(binary.LittleEndian, vars, compress)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadMAT(path, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
