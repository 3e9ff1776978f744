package signal

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The files under testdata/signal are written by testdata/gen/signal_gen.py (rerun it
// to regenerate them). Each *.good.* file has a sidecar <file>.json with the values the
// generator put in, computed by numpy and checked against scipy.io.
const testdata = "../../testdata/signal"

type sidecar struct {
	Rate     float64     `json:"rate"`
	Names    []string    `json:"names"`
	StartNs  int64       `json:"start_ns"`
	Channels [][]float64 `json:"channels"`
}

// Options for the good files whose rate is not in the file or name.
var goodOptions = map[string]Options{
	"IR014_0_174_be.good.mat":    {Rate: 12000},
	"packed_z.good.mat":          {Rate: 1000},
	"generic_header.good.csv":    {Rate: 1000},
	"generic_tab.good.csv":       {Rate: 1000},
	"generic_semicolon.good.csv": {Rate: 1000},
}

func TestReadGood(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "*.good.*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		base := filepath.Base(path)
		if strings.HasSuffix(base, ".json") || strings.HasPrefix(base, "types") {
			continue // types*.mat: TestMATVarsGood
		}
		n++
		t.Run(base, func(t *testing.T) {
			want := readSidecar(t, path+".json")
			got, err := Read(path, goodOptions[base])
			if err != nil {
				t.Fatal(err)
			}
			// WAV and MAT values are exact conversions; CSV text may round twice in
			// numpy (decimal -> float64 -> float32), so allow one float32 ulp there.
			ulps := 0
			if strings.HasSuffix(base, ".csv") {
				ulps = 1
			}
			compareSignal(t, got, want, ulps)
		})
	}
	if n < 15 {
		t.Fatalf("found %d good files in %s: run testdata/gen/signal_gen.py", n, testdata)
	}
}

func readSidecar(t *testing.T, path string) sidecar {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func compareSignal(t *testing.T, got *Signal, want sidecar, ulps int) {
	t.Helper()
	if got.Rate != want.Rate {
		t.Errorf("Rate = %g, want %g", got.Rate, want.Rate)
	}
	if len(want.Names) > 0 || got.Names != nil {
		if strings.Join(got.Names, ",") != strings.Join(want.Names, ",") {
			t.Errorf("Names = %q, want %q", got.Names, want.Names)
		}
	}
	if got.StartNs != want.StartNs {
		t.Errorf("StartNs = %d, want %d", got.StartNs, want.StartNs)
	}
	if got.NumChannels() != len(want.Channels) {
		t.Fatalf("%d channels, want %d", got.NumChannels(), len(want.Channels))
	}
	for c, w := range want.Channels {
		g := got.Channel(c)
		if len(g) != len(w) {
			t.Fatalf("channel %d: %d samples, want %d", c, len(g), len(w))
		}
		bad := 0
		for i := range w {
			if d := ulpDiff(g[i], float32(w[i])); d > ulps {
				if bad++; bad <= 3 {
					t.Errorf("channel %d sample %d = %.9g, want %.9g (%d ulp)", c, i, g[i], w[i], d)
				}
			}
		}
	}
}

// ulpDiff is the distance in float32 units in the last place between a and b.
func ulpDiff(a, b float32) int {
	if a == b {
		return 0
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if (ia < 0) != (ib < 0) || a < 0 != (b < 0) {
		return math.MaxInt32
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return int(min(d, math.MaxInt32))
}

// badCases is the table of what each broken file must say (Prometheus config_test
// style): the sentinel it wraps and a part of its message.
var badCases = []struct {
	file string
	opt  Options
	kind error
	msg  string
}{
	// WAV
	{"empty.bad.wav", Options{}, ErrEmpty, "empty file (0 bytes)"},
	{"text.bad.wav", Options{}, ErrFormat, `not a RIFF/WAVE file: starts with "time"`},
	{"truncated_data.bad.wav", Options{}, ErrTruncated, "truncated data chunk: header says 320000 bytes, file has 1200"},
	{"truncated_header.bad.wav", Options{}, ErrTruncated, "truncated fmt chunk: header says 16 bytes, file has 10"},
	{"nodata.bad.wav", Options{}, ErrFormat, "no data chunk"},
	{"nofmt.bad.wav", Options{}, ErrFormat, "data chunk before fmt chunk"},
	{"adpcm.bad.wav", Options{}, ErrUnsupported, "audio format 0x0002 (Microsoft ADPCM)"},
	{"pcm12.bad.wav", Options{}, ErrUnsupported, "12-bit PCM"},
	{"float16.bad.wav", Options{}, ErrUnsupported, "16-bit IEEE float"},
	{"zerodata.bad.wav", Options{}, ErrEmpty, "data chunk holds no samples"},
	{"misaligned.bad.wav", Options{}, ErrFormat, "data chunk of 6 bytes is not a whole number of 4-byte frames"},
	{"zerochannels.bad.wav", Options{}, ErrFormat, "0 channels"},
	{"zerorate.bad.wav", Options{}, ErrFormat, "sample rate 0"},
	{"extguid.bad.wav", Options{}, ErrUnsupported, "sub-format 0100010101"},
	{"rf64.bad.wav", Options{}, ErrUnsupported, "RF64"},
	{"pcm16_mono.good.wav", Options{Rate: 48000}, ErrRate, "header says 16000 Hz, Options.Rate says 48000 Hz"},
	// MAT
	{"empty.bad.mat", Options{Rate: 1}, ErrEmpty, "empty file (0 bytes)"},
	{"text.bad.mat", Options{Rate: 1}, ErrFormat, "not a level 5 MAT-file"},
	{"headeronly.bad.mat", Options{Rate: 1}, ErrEmpty, "holds no variables"},
	{"v73.bad.mat", Options{Rate: 1}, ErrUnsupported, "v7.3 (HDF5)"},
	{"v4.bad.mat", Options{Rate: 1}, ErrUnsupported, "level 4"},
	{"truncated.bad.mat", Options{Rate: 1}, ErrTruncated, "truncated element at byte 128: tag says 1024 bytes, file has 564"},
	{"badzlib.bad.mat", Options{Rate: 1}, ErrFormat, "compressed element at byte 128: corrupt zlib data"},
	{"cell.bad.mat", Options{Rate: 1}, ErrUnsupported, `variable "c" is a 1×2 cell array`},
	{"struct.bad.mat", Options{Rate: 1}, ErrUnsupported, `variable "s" is a 1×1 struct array`},
	{"sparse.bad.mat", Options{Rate: 1}, ErrUnsupported, `variable "sp" is a 4×4 sparse array`},
	{"char.bad.mat", Options{Rate: 1}, ErrUnsupported, `variable "label" is a 1×7 char array`},
	{"complex.bad.mat", Options{Rate: 1}, ErrUnsupported, `variable "z" is complex`},
	{"dims.bad.mat", Options{Rate: 1}, ErrFormat, `variable "x": dimensions 1000×1 need 1000 values, data has 10`},
	{"48k_cwru_like.good.mat", Options{Variable: "nope"}, ErrVariable, `no variable "nope" or ending in it; the file has X097_DE_time (120×1 double)`},
	{"48k_cwru_like.good.mat", Options{Variable: "_time"}, ErrVariable, `"_time" matches 2 variables (X097_DE_time, X097_FE_time)`},
	{"IR014_0_174_be.good.mat", Options{}, ErrRate, "a MAT-file does not store its sample rate"},
	// CSV
	{"empty.bad.csv", Options{Rate: 1}, ErrEmpty, "empty file (0 bytes)"},
	{"headeronly.bad.csv", Options{Rate: 1}, ErrEmpty, "no data rows after the header"},
	{"ragged.bad.csv", Options{Rate: 1}, ErrFormat, "line 3 has 2 fields, the first line has 3"},
	{"nonnumeric.bad.csv", Options{Rate: 1}, ErrFormat, `line 4, column 2: "abc" is not a number`},
	{"binary.bad.csv", Options{Rate: 1}, ErrFormat, "line 1: binary data (a NUL byte)"},
	{"acc_00003.bad.csv", Options{}, ErrFormat, "line 1 has 5 columns: a FEMTO file has 6"},
	{"acc_00004.bad.csv", Options{}, ErrTruncated, "last line 3 has 3 fields, the first line has 6: the file is cut short"},
	{"acc_00005.bad.csv", Options{}, ErrFormat, `line 2, column 3: "x" is not a number`},
	{"generic_header.good.csv", Options{}, ErrRate, "a generic CSV file does not store its sample rate"},
	{"acc_00001.good.csv", Options{Format: "flac"}, ErrUnsupported, `unknown format "flac"`},
	{"generic_tab.good.csv", Options{Format: FormatFEMTO}, ErrFormat, "line 1 has 2 columns: a FEMTO file has 6"},
}

func TestReadBad(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(testdata, tc.file)
			s, err := Read(path, tc.opt)
			if err == nil {
				t.Fatalf("Read(%s) = %d channels × %d, want an error", tc.file, s.NumChannels(), s.Len())
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q does not wrap %q", err, tc.kind)
			}
			if prefix := "signal: read " + path + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
	// Every bad file is in the table.
	files, _ := filepath.Glob(filepath.Join(testdata, "*.bad.*"))
	seen := map[string]bool{}
	for _, tc := range badCases {
		seen[tc.file] = true
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no row in badCases", filepath.Base(f))
		}
	}
}

func TestReadMisc(t *testing.T) {
	_, err := Read("nonexistent/x.wav", Options{})
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "signal: open nonexistent/x.wav: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	_, err = Read(filepath.Join(testdata, "../gen/signal_gen.py"), Options{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `unknown extension ".py"`) {
		t.Errorf("unknown extension: %v", err)
	}
	// A FEMTO file forced to generic CSV: six channels, no names, the given rate.
	s, err := Read(filepath.Join(testdata, "acc_00001.good.csv"), Options{Format: FormatCSV, Rate: 10})
	if err != nil || s.NumChannels() != 6 || s.Rate != 10 || s.Names != nil || s.Channel(0)[0] != 8 {
		t.Errorf("forced csv: %v %+v", err, s)
	}
	// FEMTO with another rate, and a FEMTO-shaped file read as FEMTO when forced.
	s, err = Read(filepath.Join(testdata, "femto_shape.good.csv"), Options{Format: FormatFEMTO, Rate: 51200})
	if err != nil || s.Rate != 51200 || s.NumChannels() != 2 {
		t.Errorf("forced femto: %v %+v", err, s)
	}
	// A WAV header rate equal to Options.Rate is fine.
	if _, err := Read(filepath.Join(testdata, "pcm16_mono.good.wav"), Options{Rate: 16000}); err != nil {
		t.Error(err)
	}
}

func TestSignalHelpers(t *testing.T) {
	s := &Signal{Rate: 16000, Channels: [][]float32{make([]float32, 24000), make([]float32, 24000)}, Names: []string{"a", "b"}}
	if s.Len() != 24000 || s.NumChannels() != 2 || s.Duration() != 1500*time.Millisecond {
		t.Errorf("Len %d NumChannels %d Duration %v", s.Len(), s.NumChannels(), s.Duration())
	}
	if s.ChannelIndex("b") != 1 || s.ChannelIndex("c") != -1 {
		t.Error("ChannelIndex")
	}
	var empty Signal
	if empty.Len() != 0 || empty.Duration() != 0 {
		t.Error("empty signal")
	}
	// 243938 samples at 48 kHz (CWRU normal_0_97) = 5.082041666... s, rounded to the ns.
	cw := &Signal{Rate: 48000, Channels: [][]float32{make([]float32, 243938)}}
	if cw.Duration() != 5082041667 {
		t.Errorf("Duration = %d ns", cw.Duration())
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "channel 2 out of range [0, 2)") {
			t.Errorf("Channel(2) panic = %v", r)
		}
	}()
	s.Channel(2)
}
