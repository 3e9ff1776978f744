package signal

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestParseFloatMatchesStrconv checks the fast path against strconv.ParseFloat, the
// reference, on fixed edge cases and on random decimals in the forms CSV files use.
func TestParseFloatMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "+0", "1", "-1", "1.", ".5", "-.5", "0.0000001", "1e10", "1E-10",
		"16777216", "16777217", "16777215", "3.4028235e38", "3.5e38", "1e-46", "1.401298e-45",
		"8.8441e+05", "0.1", "0.3", "123456789012345678901234", "1.0000000000000000000001",
		"9007199254740993", "1e22", "1e23", "4.35", "2.5e-3", "1_0", "0x1p3", "inf", "-Inf", "NaN",
		"", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "--1", "1 ", "1,5", "١"}
	r := rand.New(rand.NewPCG(1, 1))
	for range 200000 {
		var s string
		switch r.IntN(4) {
		case 0:
			s = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(30)-15)), 'f', r.IntN(12), 64)
		case 1:
			s = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(80)-40)), 'e', r.IntN(18), 64)
		case 2:
			s = fmt.Sprintf("%d.%0*d", r.IntN(100000)-50000, 1+r.IntN(8), r.IntN(1e8))
		default:
			s = strconv.FormatFloat(float64(float32(r.NormFloat64())), 'g', -1, 32)
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		w32, werr32 := strconv.ParseFloat(s, 32)
		g32, gerr32 := parseFloat32([]byte(s))
		if (werr32 == nil) != (gerr32 == nil) || (math.Float32bits(g32) != math.Float32bits(float32(w32)) && !math.IsNaN(w32)) {
			t.Errorf("parseFloat32(%q) = %v, %v; strconv %v, %v", s, g32, gerr32, float32(w32), werr32)
		}
		w64, werr64 := strconv.ParseFloat(s, 64)
		g64, gerr64 := parseFloat64([]byte(s))
		if (werr64 == nil) != (gerr64 == nil) || (math.Float64bits(g64) != math.Float64bits(w64) && !math.IsNaN(w64)) {
			t.Errorf("parseFloat64(%q) = %v, %v; strconv %v, %v", s, g64, gerr64, w64, werr64)
		}
	}
}

func BenchmarkParseFloat32(b *testing.B) {
	fields := [][]byte{[]byte("1.414"), []byte("-0.751"), []byte("0.123456"), []byte("-2.068e+00")}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			parseFloat32(fields[i&3])
		}
	})
	b.Run("strconv", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			strconv.ParseFloat(string(fields[i&3]), 32)
		}
	})
}
