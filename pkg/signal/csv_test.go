package signal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCSVLongLines(t *testing.T) {
	// 9,000 channels: each line (about 90 kB) is longer than the 64 KiB read buffer.
	const nch, rows = 9000, 3
	var sb strings.Builder
	for i := range rows {
		for c := range nch {
			if c > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "%d.%07d", i, c)
		}
		sb.WriteByte('\n')
	}
	s, err := DecodeCSV(strings.NewReader(sb.String()), 100)
	if err != nil {
		t.Fatal(err)
	}
	if s.NumChannels() != nch || s.Len() != rows {
		t.Fatalf("%d × %d, want %d × %d", s.NumChannels(), s.Len(), nch, rows)
	}
	if want, _ := strconv.ParseFloat("2.0008999", 32); s.Channel(8999)[2] != float32(want) {
		t.Errorf("last value %v, want %v", s.Channel(8999)[2], want)
	}
}

func TestDecodeCSVMisc(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		rate     float64
		want     string // fmt of Channels, or the error text
		names    string
	}{
		{"one column", "1\n2\n3\n", 1, "[[1 2 3]]", ""},
		{"spaces and comments", "# made by hand\n a , b \n 1 , 2 \n\n 3,4\n", 1, "[[1 3] [2 4]]", "a,b"},
		{"quoted header tab", "\"t\"\t'u'\n1\t2\n", 1, "[[1] [2]]", "t,u"},
		{"exponent and nan", "1e-3;NaN;-Inf\n", 1, "[[0.001] [NaN] [-Inf]]", ""},
		{"out of float32 range", "1e39,-1e39,1e-50\n", 1, "[[+Inf] [-Inf] [0]]", ""},
		{"too many fields", "1,2\n3,4,5\n", 1, "line 2 has 3 fields, the first line has 2", ""},
		{"empty field", "1,2\n3,\n", 1, "line 2, column 2: empty value", ""},
		{"cut number at end", "1,2\n3,4e", 1, `last line 2, column 2: "4e" is not a number: the file is cut short`, ""},
		{"no rate", "1,2\n", 0, "does not store its sample rate", ""},
		{"only blank lines", "\n\n  \n", 1, "no data: the file has no rows", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DecodeCSV(strings.NewReader(tc.in), tc.rate)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "signal: decode csv: ") {
					t.Fatalf("error %q, want %q", err, tc.want)
				}
				return
			}
			if got := fmt.Sprint(s.Channels); got != tc.want {
				t.Errorf("channels %s, want %s", got, tc.want)
			}
			if got := strings.Join(s.Names, ","); got != tc.names {
				t.Errorf("names %q, want %q", got, tc.names)
			}
		})
	}
}

func TestDecodeFEMTO(t *testing.T) {
	in := "08;15;52;3.9062e+01;0.25;-1.5\n08;15;52;78.125;0.5;2\n"
	s, err := DecodeFEMTO(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// 08:15:52 and 39.062 µs after midnight.
	if want := int64(((8*60+15)*60+52)*1e9 + 39062); s.StartNs != want {
		t.Errorf("StartNs %d, want %d", s.StartNs, want)
	}
	if s.Rate != FEMTORate || fmt.Sprint(s.Channels) != "[[0.25 0.5] [-1.5 2]]" || s.ChannelIndex("vertical") != 1 {
		t.Errorf("got %+v", s)
	}
	if _, err := DecodeFEMTO(strings.NewReader("1,2,3\n")); !errors.Is(err, ErrFormat) {
		t.Errorf("3 columns: %v", err)
	}
}

// FuzzDecodeCSV round-trips random tables through text in every separator, with and
// without a header, and checks that arbitrary text never makes DecodeCSV panic.
func FuzzDecodeCSV(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*.csv"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(0))
	}
	for seed := range uint64(8) {
		f.Add([]byte(nil), seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64) {
		if len(raw) > 0 {
			s, err := DecodeCSV(bytes.NewReader(raw), 1)
			if err == nil && (s.Len() == 0 || len(s.Names) != 0 && len(s.Names) != s.NumChannels()) {
				t.Fatalf("bad signal without error: %d × %d, names %q", s.NumChannels(), s.Len(), s.Names)
			}
			return
		}
		r := rand.New(rand.NewPCG(seed, 3))
		nch, rows := 1+r.IntN(5), 1+r.IntN(200)
		sep := []string{",", ";", "\t"}[r.IntN(3)]
		eol := []string{"\n", "\r\n"}[r.IntN(2)]
		var sb strings.Builder
		header := r.IntN(2) == 0
		if header {
			for c := range nch {
				if c > 0 {
					sb.WriteString(sep)
				}
				fmt.Fprintf(&sb, "ch%d", c)
			}
			sb.WriteString(eol)
		}
		want := make([][]float32, nch)
		for i := range rows {
			for c := range nch {
				v := float32(r.NormFloat64() * float64(int(1)<<r.IntN(20)))
				want[c] = append(want[c], v)
				if c > 0 {
					sb.WriteString(sep)
				}
				sb.WriteString(strconv.FormatFloat(float64(v), []byte("efg")[r.IntN(3)], -1, 32))
			}
			if i < rows-1 || r.IntN(2) == 0 {
				sb.WriteString(eol)
			}
		}
		s, err := DecodeCSV(strings.NewReader(sb.String()), 8000)
		if err != nil {
			t.Fatalf("%v\n%s", err, sb.String())
		}
		if s.NumChannels() != nch || s.Len() != rows || (header && len(s.Names) != nch) || (!header && s.Names != nil) {
			t.Fatalf("%d × %d names %q, want %d × %d header %v", s.NumChannels(), s.Len(), s.Names, nch, rows, header)
		}
		for c := range want {
			for i, v := range want[c] {
				if s.Channel(c)[i] != v {
					t.Fatalf("channel %d row %d = %v, want %v", c, i, s.Channel(c)[i], v)
				}
			}
		}
	})
}

// femtoText returns a FEMTO snapshot of n rows in the layout of Bearing2_1.
func femtoText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 1))
	var b []byte
	for i := range n {
		us := 884410 + float64(i)*39.0625
		b = fmt.Appendf(b, "9,21,35,%.4e,%.3f,%.3f\n", us, r.NormFloat64(), r.NormFloat64())
	}
	return b
}

// BenchmarkReadFEMTO reads one FEMTO snapshot (2560 rows, about 80 kB); MB/s is of
// file bytes.
func BenchmarkReadFEMTO(b *testing.B) {
	path := filepath.Join(b.TempDir(), "acc_00001.csv")
	text := femtoText(2560)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFEMTO(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadCSV reads a generic two-column CSV of 1e5 and 1e6 rows; MB/s is of file
// bytes. allocs/op stays flat as the file grows tenfold: nothing is allocated per value.
func BenchmarkReadCSV(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(rows), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			var text []byte
			for range rows {
				text = fmt.Appendf(text, "%.6f,%.6f\n", r.NormFloat64(), r.NormFloat64())
			}
			path := filepath.Join(b.TempDir(), "x.csv")
			if err := os.WriteFile(path, text, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadCSV(path, 25600); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
