package signal

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMATVarsGood(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdata, "types.good.mat.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Shape []int     `json:"shape"`
		Class string    `json:"class"`
		Data  []float64 `json:"data"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"types.good.mat", "types_z.good.mat"} {
		t.Run(file, func(t *testing.T) {
			vars, err := ReadMATVars(filepath.Join(testdata, file))
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]MATVar{}
			var order []string
			for _, v := range vars {
				byName[v.Name] = v
				order = append(order, v.Name+":"+v.Class)
			}
			// scipy.io.savemat writes the dict in insertion order.
			wantOrder := "sig_single:single sig_i16:int16 sig_i32:int32 sig_u8:uint8 sig_i64:int64 m:double flag:logical label:char c:cell s:struct"
			if got := strings.Join(order, " "); got != wantOrder {
				t.Errorf("variables %s\nwant      %s", got, wantOrder)
			}
			for name, w := range want {
				v := byName[name]
				if v.Class != strings.Replace(w.Class, "float32", "single", 1) {
					t.Errorf("%s: class %s, want %s", name, v.Class, w.Class)
				}
				if fmt.Sprint(v.Dims) != fmt.Sprint(w.Shape) {
					t.Errorf("%s: dims %v, want %v", name, v.Dims, w.Shape)
				}
				if len(v.Data) != len(w.Data) {
					t.Fatalf("%s: %d values, want %d", name, len(v.Data), len(w.Data))
				}
				for i := range w.Data {
					if v.Data[i] != w.Data[i] {
						t.Errorf("%s[%d] = %v, want %v", name, i, v.Data[i], w.Data[i])
						break
					}
				}
			}
			if f := byName["flag"]; fmt.Sprint(f.Data) != "[1 0 1]" {
				t.Errorf("logical flag = %v", f.Data)
			}
			if c := byName["c"]; c.Data != nil || c.Numeric() || fmt.Sprint(c.Dims) != "[1 2]" {
				t.Errorf("cell c = %+v", c)
			}
		})
	}
}

func TestSignalFromMAT(t *testing.T) {
	vars, err := ReadMATVars(filepath.Join(testdata, "types.good.mat"))
	if err != nil {
		t.Fatal(err)
	}
	find := func(name string) []float64 {
		for _, v := range vars {
			if v.Name == name {
				return v.Data
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	// Default: the five 40-sample vectors; the 30×3 matrix and the 1×3 logical are left out.
	s, err := SignalFromMAT(vars, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Names, ","); got != "sig_single,sig_i16,sig_i32,sig_u8,sig_i64" {
		t.Errorf("default channels %s", got)
	}
	if s.Channel(1)[5] != float32(find("sig_i16")[5]) || s.Len() != 40 || s.Rate != 100 {
		t.Errorf("default channel values")
	}
	// A suffix picks one vector; a matrix with more rows than columns gives its columns.
	if s, err = SignalFromMAT(vars, "_i32", 1); err != nil || s.NumChannels() != 1 || s.Names[0] != "sig_i32" {
		t.Fatalf("suffix _i32: %v %v", err, s)
	}
	m := find("m") // 30×3, column-major
	s, err = SignalFromMAT(vars, "m", 1)
	if err != nil || strings.Join(s.Names, ",") != "m[0],m[1],m[2]" || s.Len() != 30 {
		t.Fatalf("matrix m: %v %v", err, s)
	}
	for j := 0; j < 3; j++ {
		for i := 0; i < 30; i++ {
			if s.Channel(j)[i] != float32(m[j*30+i]) {
				t.Fatalf("m[%d][%d] = %v, want %v", j, i, s.Channel(j)[i], m[j*30+i])
			}
		}
	}
	// Errors.
	for _, tc := range []struct {
		variable string
		kind     error
		msg      string
	}{
		{"sig", ErrVariable, `no variable "sig" or ending in it`},
		{"label", ErrUnsupported, `variable "label" is a 1×7 char array`},
		{"s", ErrUnsupported, `variable "s" is a 1×1 struct array`},
	} {
		if _, err := SignalFromMAT(vars, tc.variable, 1); !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("SignalFromMAT(%q) error %v, want %v saying %q", tc.variable, err, tc.kind, tc.msg)
		}
	}
	// A wide matrix gives its rows; several matrices and no vector need a name; N-d and
	// empty arrays are refused.
	wide := MATVar{Name: "w", Class: "double", Dims: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}}
	s, err = SignalFromMAT([]MATVar{wide}, "", 1)
	if err != nil || fmt.Sprint(s.Channels) != "[[1 3 5] [2 4 6]]" || s.Names[1] != "w[1]" {
		t.Errorf("wide matrix: %v %v", err, s)
	}
	two := []MATVar{wide, {Name: "v", Class: "double", Dims: []int{3, 2}, Data: make([]float64, 6)}}
	if _, err := SignalFromMAT(two, "", 1); !errors.Is(err, ErrVariable) {
		t.Errorf("two matrices: %v", err)
	}
	nd := MATVar{Name: "nd", Class: "single", Dims: []int{2, 2, 2}, Data: make([]float64, 8)}
	if _, err := SignalFromMAT([]MATVar{nd}, "nd", 1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("3-d: %v", err)
	}
	e := MATVar{Name: "e", Class: "double", Dims: []int{0, 0}, Data: []float64{}}
	if _, err := SignalFromMAT([]MATVar{e}, "e", 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := SignalFromMAT([]MATVar{e}, "", 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("no candidates: %v", err)
	}
}

func TestCWRURate(t *testing.T) {
	for name, want := range map[string]float64{
		"data/cwru/48k_Drive_End_IR014_0_174.mat": 48000,
		"normal_0_97.mat":                         48000,
		"12k_Drive_End_B007_0_118.mat":            12000,
		"/x/48k/unknown.mat":                      0, // only the base name counts
		"97.mat":                                  0,
	} {
		if got := CWRURate(name); got != want {
			t.Errorf("CWRURate(%q) = %g, want %g", name, got, want)
		}
	}
}

// matVar is a variable for encodeMAT: a numeric array of class class stored as store.
type matVar struct {
	name         string
	class, store string
	dims         []int
	data         []float64
}

var (
	testClass = map[string]uint32{"double": 6, "single": 7, "int8": 8, "uint8": 9, "int16": 10, "uint16": 11, "int32": 12, "uint32": 13, "int64": 14, "uint64": 15}
	testMI    = map[string]uint32{"int8": 1, "uint8": 2, "int16": 3, "uint16": 4, "int32": 5, "uint32": 6, "single": 7, "double": 9, "int64": 12, "uint64": 13}
)

// encodeMAT writes a level 5 MAT-file, following MathWorks' "MAT-File Format"
// (small data elements for payloads of at most 4 bytes, 8-byte padding, zlib elements).
func encodeMAT(o binary.ByteOrder, vars []matVar, compress bool) []byte {
	var out bytes.Buffer
	hdr := make([]byte, 128)
	copy(hdr, "MATLAB 5.0 MAT-file, written by signal's tests")
	for i := len("MATLAB 5.0 MAT-file, written by signal's tests"); i < 116; i++ {
		hdr[i] = ' '
	}
	o.PutUint16(hdr[124:], 0x0100)
	o.PutUint16(hdr[126:], 'M'<<8|'I')
	out.Write(hdr)
	el := func(w *bytes.Buffer, typ uint32, payload []byte) {
		if len(payload) <= 4 && typ != 14 {
			var t [8]byte
			o.PutUint32(t[:], uint32(len(payload))<<16|typ)
			copy(t[4:], payload)
			w.Write(t[:])
			return
		}
		var t [8]byte
		o.PutUint32(t[:], typ)
		o.PutUint32(t[4:], uint32(len(payload)))
		w.Write(t[:])
		w.Write(payload)
		w.Write(make([]byte, (8-len(payload)%8)%8))
	}
	for _, v := range vars {
		var body bytes.Buffer
		flags := make([]byte, 8)
		o.PutUint32(flags, testClass[v.class])
		var t [8]byte
		o.PutUint32(t[:], 6) // flags always in a full tag
		o.PutUint32(t[4:], 8)
		body.Write(t[:])
		body.Write(flags)
		dims := make([]byte, 4*len(v.dims))
		for i, d := range v.dims {
			o.PutUint32(dims[4*i:], uint32(d))
		}
		o.PutUint32(t[:], 5)
		o.PutUint32(t[4:], uint32(len(dims)))
		body.Write(t[:])
		body.Write(dims)
		body.Write(make([]byte, (8-len(dims)%8)%8))
		el(&body, 1, []byte(v.name))
		var data bytes.Buffer
		for _, x := range v.data {
			switch v.store {
			case "double":
				binary.Write(&data, o, x)
			case "single":
				binary.Write(&data, o, float32(x))
			case "int8":
				data.WriteByte(byte(int8(x)))
			case "uint8":
				data.WriteByte(byte(x))
			case "int16":
				binary.Write(&data, o, int16(x))
			case "uint16":
				binary.Write(&data, o, uint16(x))
			case "int32":
				binary.Write(&data, o, int32(x))
			case "uint32":
				binary.Write(&data, o, uint32(x))
			case "int64":
				binary.Write(&data, o, int64(x))
			case "uint64":
				binary.Write(&data, o, uint64(x))
			}
		}
		el(&body, testMI[v.store], data.Bytes())
		var m bytes.Buffer
		el(&m, 14, body.Bytes())
		if compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(m.Bytes())
			zw.Close()
			var t [8]byte
			o.PutUint32(t[:], 15)
			o.PutUint32(t[4:], uint32(z.Len()))
			out.Write(t[:])
			out.Write(z.Bytes())
		} else {
			out.Write(m.Bytes())
		}
	}
	return out.Bytes()
}

var storeTypes = []string{"double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"}

// randomValue returns a value exactly representable in store.
func randomValue(r *rand.Rand, store string) float64 {
	switch store {
	case "double":
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(10)-5))
	case "single":
		return float64(float32(r.NormFloat64()))
	case "int8":
		return float64(r.IntN(256) - 128)
	case "uint8":
		return float64(r.IntN(256))
	case "int16":
		return float64(r.IntN(65536) - 32768)
	case "uint16":
		return float64(r.IntN(65536))
	case "int32":
		return float64(int32(r.Uint32()))
	case "uint32":
		return float64(r.Uint32())
	case "int64":
		return float64(r.Int64N(1<<53) - 1<<52)
	default:
		return float64(r.Uint64N(1 << 53))
	}
}

// FuzzDecodeMAT round-trips random variables through encodeMAT in both byte orders,
// plain and compressed, and checks that arbitrary bytes never make DecodeMAT panic.
func FuzzDecodeMAT(f *testing.F) {
	for _, name := range []string{"48k_cwru_like.good.mat", "48k_cwru_like_z.good.mat", "IR014_0_174_be.good.mat", "types.good.mat", "truncated.bad.mat", "dims.bad.mat"} {
		b, err := os.ReadFile(filepath.Join(testdata, name))
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
			vars, err := DecodeMAT(bytes.NewReader(raw))
			if err == nil && len(vars) == 0 {
				t.Fatal("no error and no variables")
			}
			return
		}
		r := rand.New(rand.NewPCG(seed, 1))
		var vars []matVar
		for i := range 1 + r.IntN(4) {
			store := storeTypes[r.IntN(len(storeTypes))]
			class := store
			if r.IntN(3) == 0 {
				class = "double" // a double stored in a smaller type, as CWRU's RPM
			}
			rows, cols := r.IntN(20), 1+r.IntN(3)
			v := matVar{name: fmt.Sprintf("v%d_%s", i, strings.Repeat("x", r.IntN(6))), class: class, store: store, dims: []int{rows, cols}}
			for range rows * cols {
				v.data = append(v.data, randomValue(r, store))
			}
			vars = append(vars, v)
		}
		var o binary.ByteOrder = binary.LittleEndian
		if seed%2 == 1 {
			o = binary.BigEndian
		}
		b := encodeMAT(o, vars, seed%4 >= 2)
		got, err := DecodeMAT(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(vars) {
			t.Fatalf("%d variables, want %d", len(got), len(vars))
		}
		for i, v := range vars {
			g := got[i]
			if g.Name != v.name || g.Class != v.class || fmt.Sprint(g.Dims) != fmt.Sprint(v.dims) || len(g.Data) != len(v.data) {
				t.Fatalf("variable %d = %s %s %v (%d values), want %s %s %v (%d)", i, g.Name, g.Class, g.Dims, len(g.Data), v.name, v.class, v.dims, len(v.data))
			}
			for k := range v.data {
				if g.Data[k] != v.data[k] {
					t.Fatalf("%s[%d] = %v, want %v", v.name, k, g.Data[k], v.data[k])
				}
			}
		}
		// Cut anywhere inside the last element: an error, never a panic or a short read.
		if cut := 128 + r.IntN(len(b)-128); cut < len(b) {
			if _, err := DecodeMAT(bytes.NewReader(b[:cut])); err == nil && !lastElementEndsBefore(b, cut) {
				t.Fatalf("no error for a file cut at %d of %d", cut, len(b))
			}
		}
	})
}

// lastElementEndsBefore reports whether cutting b at cut leaves whole elements only
// (padding removed), in which case the shorter file is valid.
func lastElementEndsBefore(b []byte, cut int) bool {
	o := binary.ByteOrder(binary.LittleEndian)
	if string(b[126:128]) == "MI" {
		o = binary.BigEndian
	}
	for off := 128; off < len(b); {
		n := int(o.Uint32(b[off+4:]))
		end := off + 8 + n
		if o.Uint32(b[off:]) != miCOMPRESSED {
			end = (end + 7) &^ 7
		}
		if off+8+n <= cut && cut <= end {
			return true
		}
		off = end
	}
	return false
}
