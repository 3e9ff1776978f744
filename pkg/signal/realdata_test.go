package signal

import (
	"bufio"
	"github.com/mhmstream/mhm/internal/realdata"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRealData reads one file of each shared data set and checks its shape, rate and
// values. The reference values were read with scipy.io.loadmat, scipy.io.wavfile.read
// and numpy.loadtxt (Debian's python3-scipy 1.10.1, numpy 1.24.2).
func TestRealData(t *testing.T) {
	t.Run("cwru", func(t *testing.T) {
		t.Parallel()
		dir := realdata.Unpack(t, realdata.CWRU, "cwru/normal_0_97.mat", "cwru/48k_Drive_End_IR014_0_174.mat")
		for _, tc := range []struct {
			file        string
			n           int
			names       string
			first       [3]float64 // the first three drive-end values, from scipy
			maxAbs, rms float64
		}{
			{"normal_0_97.mat", 243938, "X097_DE_time,X097_FE_time",
				[3]float64{0.05319692307692307, 0.08866153846153846, 0.09971815384615385}, 0.31125415384615385, 0.07376396805784112},
			{"48k_Drive_End_IR014_0_174.mat", 63788, "X173_DE_time,X173_FE_time",
				[3]float64{0.18195733333333333, 0.2032413333333333, 0.21158799999999997}, 1.449816, 0.18208934158247586},
		} {
			path := filepath.Join(dir, "cwru", tc.file)
			s, err := Read(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Rate != 48000 || s.Len() != tc.n || strings.Join(s.Names, ",") != tc.names {
				t.Fatalf("%s: %g Hz, %d samples, %q; want 48000, %d, %q", tc.file, s.Rate, s.Len(), s.Names, tc.n, tc.names)
			}
			de := s.Channel(0)
			var peak, sum float64
			for _, v := range de {
				peak = max(peak, math.Abs(float64(v)))
				sum += float64(v) * float64(v)
			}
			for i, w := range tc.first {
				if de[i] != float32(w) {
					t.Errorf("%s: DE[%d] = %v, want %v", tc.file, i, de[i], w)
				}
			}
			if rms := math.Sqrt(sum / float64(len(de))); math.Abs(peak-tc.maxAbs) > 1e-6 || math.Abs(rms-tc.rms) > 1e-6 {
				t.Errorf("%s: DE peak %g rms %g, want %g %g", tc.file, peak, rms, tc.maxAbs, tc.rms)
			}
			// The suffix picks the drive end alone; the RPM scalar is there (1796, stored as uint16).
			one, err := Read(path, Options{Variable: "_DE_time"})
			if err != nil || one.NumChannels() != 1 || one.Channel(0)[1000] != de[1000] {
				t.Errorf("%s: Variable _DE_time: %v", tc.file, err)
			}
			vars, err := ReadMATVars(path)
			if err != nil {
				t.Fatal(err)
			}
			if rpm := vars[len(vars)-1]; !strings.HasSuffix(rpm.Name, "RPM") || rpm.Class != "double" || len(rpm.Data) != 1 || rpm.Data[0] != 1796 {
				t.Errorf("%s: last variable %s %s %v, want the RPM 1796", tc.file, rpm.Name, rpm.Class, rpm.Data)
			}
		}
	})

	t.Run("femto", func(t *testing.T) {
		t.Parallel()
		const member = "femto/Learning_set/Bearing2_1/acc_00405.csv"
		dir := realdata.Unpack(t, realdata.FEMTO, member)
		path := filepath.Join(dir, member)
		s, err := Read(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Rate != 25600 || s.Len() != 2560 || s.Duration().Seconds() != 0.1 || strings.Join(s.Names, ",") != "horizontal,vertical" {
			t.Fatalf("%g Hz, %d samples, %v, %q", s.Rate, s.Len(), s.Duration(), s.Names)
		}
		// First row "9,21,35,8.8441e+05,1.414,-0.751": 09:21:35.884410.
		if want := int64(((9*60+21)*60+35)*1e9 + 884410e3); s.StartNs != want {
			t.Errorf("StartNs %d, want %d", s.StartNs, want)
		}
		// Every value against the text, parsed independently by strconv.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		row := 0
		for ; sc.Scan(); row++ {
			fields := strings.Split(sc.Text(), ",")
			for c := range 2 {
				w, err := strconv.ParseFloat(fields[4+c], 32)
				if err != nil || s.Channel(c)[row] != float32(w) {
					t.Fatalf("row %d channel %d = %v, text %q", row, c, s.Channel(c)[row], fields[4+c])
				}
			}
		}
		if row != 2560 {
			t.Errorf("%d rows in the text", row)
		}
	})

	t.Run("dcase", func(t *testing.T) {
		t.Parallel()
		const member = "dcase2020-id00/test/anomaly_id_00_00000000.wav"
		dir := realdata.Unpack(t, realdata.DCASE, member)
		s, err := Read(filepath.Join(dir, member), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Rate != 16000 || s.NumChannels() != 1 || s.Len() != 160000 || s.Duration().Seconds() != 10 {
			t.Fatalf("%g Hz, %d channels × %d", s.Rate, s.NumChannels(), s.Len())
		}
		// scipy.io.wavfile.read: int16 codes 490, 495, 445 first, min -2882, max 2310.
		x := s.Channel(0)
		lo, hi := x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		for i, code := range []float32{490, 495, 445} {
			if x[i] != code/32768 {
				t.Errorf("x[%d] = %v, want %v/32768", i, x[i], code)
			}
		}
		if lo != -2882.0/32768 || hi != 2310.0/32768 {
			t.Errorf("range [%v, %v], want [-2882, 2310]/32768", lo, hi)
		}
	})
}
