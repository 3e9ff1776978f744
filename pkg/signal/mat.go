package signal

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// MATVar is one variable of a MAT-file.
type MATVar struct {
	// Name is the variable's name as stored in the file.
	Name string
	// Class is the MATLAB class: "double", "single", "int8", "uint8", "int16", "uint16",
	// "int32", "uint32", "int64", "uint64" or "logical" for numeric arrays, whose Data
	// is read; "cell", "struct", "object", "char", "sparse", "function" or "opaque" for
	// the kinds this package lists but does not read (Data nil).
	Class string
	// Dims are the array's dimensions (at least two: rows, columns, ...).
	Dims []int
	// Complex is set for complex arrays; Data then holds the real part only.
	Complex bool
	// Data holds the numeric values in column-major order (MATLAB's), converted to
	// float64 whatever the class or the storage type (int64 beyond 2^53 loses precision).
	Data []float64
}

// Numeric reports whether v is a numeric (or logical) array whose Data was read.
func (v *MATVar) Numeric() bool { return matNumeric[v.Class] }

// Shape returns v's dimensions as "243938×1".
func (v *MATVar) Shape() string {
	parts := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}

var matNumeric = map[string]bool{"double": true, "single": true, "int8": true, "uint8": true,
	"int16": true, "uint16": true, "int32": true, "uint32": true, "int64": true, "uint64": true,
	"logical": true}

// mxClass names, indexed by the class byte of the array flags.
var matClasses = [...]string{1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse",
	6: "double", 7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16", 12: "int32",
	13: "uint32", 14: "int64", 15: "uint64", 16: "function", 17: "opaque"}

// miTYPE codes of data elements.
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF32      = 18
)

// miSize gives the byte size of the numeric miTYPEs (0: not numeric).
var miSize = [...]int{miINT8: 1, miUINT8: 1, miINT16: 2, miUINT16: 2, miINT32: 4, miUINT32: 4,
	miSINGLE: 4, miDOUBLE: 8, miINT64: 8, miUINT64: 8, miUTF32: 0}

// matMaxInflate bounds what one compressed element may inflate to.
const matMaxInflate = 1 << 31

// ReadMATVars reads every variable of a MATLAB level 5 MAT-file (the format of
// MATLAB's save -v6 and -v7 and of scipy.io.savemat), in file order.
//
// Both byte orders are read, compressed (miCOMPRESSED, zlib) and plain elements, and
// numeric arrays of every class whatever type their data are stored as (MATLAB stores a
// double that holds small integers as uint16, as CWRU's X097RPM). Cell, struct, object,
// char, sparse and function variables are listed with their class but not read.
// Variables without a name (MATLAB's subsystem data) are left out.
//
// Errors: ErrEmpty for an empty file or one without variables; ErrUnsupported for a
// v7.3 (HDF5) or level 4 MAT-file; ErrTruncated when an element runs past the end of
// the file; ErrFormat for anything else malformed, including a corrupt zlib stream.
// The whole file is read into memory.
func ReadMATVars(path string) ([]MATVar, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	vars, err := parseMAT(b)
	if err != nil {
		return nil, fileErr(path, err)
	}
	return vars, nil
}

// DecodeMAT reads the variables of a MAT-file from r, as ReadMATVars does.
func DecodeMAT(r io.Reader) ([]MATVar, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, decodeErr("mat", err)
	}
	vars, err := parseMAT(b)
	if err != nil {
		return nil, decodeErr("mat", err)
	}
	return vars, nil
}

// ReadMAT reads a MAT-file into a Signal: the variables are chosen by opt.Variable as
// SignalFromMAT describes, and the rate is opt.Rate, or else CWRURate(path); with
// neither the result is ErrRate, since a MAT-file does not store a sample rate.
func ReadMAT(path string, opt Options) (*Signal, error) {
	vars, err := ReadMATVars(path)
	if err != nil {
		return nil, err
	}
	rate := opt.Rate
	if rate == 0 {
		rate = CWRURate(path)
	}
	if rate <= 0 {
		return nil, fileErr(path, errf(ErrRate, "a MAT-file does not store its sample rate and the name does not give it (48k_*, 12k_*, normal_*): set Options.Rate"))
	}
	s, err := SignalFromMAT(vars, opt.Variable, rate)
	if err != nil {
		return nil, fileErr(path, err)
	}
	return s, nil
}

// CWRURate returns the sample rate the Case Western Reserve University bearing data
// center gives for a file of that name, or 0 if the name does not say: names containing
// "48k" are 48,000 Hz, "12k" 12,000 Hz, and the normal baselines normal_*.mat are
// 48,000 Hz (the data center's "Normal Baseline Data" page; shared/data/README.md).
// Only the base name is looked at, case-insensitively.
func CWRURate(path string) float64 {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(name, "48k"):
		return 48000
	case strings.Contains(name, "12k"):
		return 12000
	case strings.HasPrefix(name, "normal_"):
		return 48000
	}
	return 0
}

// SignalFromMAT makes a Signal at rate Hz from the variables of a MAT-file.
//
// With variable set, the variable of that exact name is used, else the only one whose
// name ends with it ("_DE_time" picks X097_DE_time); none or several is ErrVariable.
// With variable empty, the numeric variables holding more than one value are the
// candidates: if there is one it is used; else every vector (N×1 or 1×N) of the
// greatest length becomes a channel, in file order (a CWRU file gives X097_DE_time,
// X097_FE_time, and X097_BA_time where present, its scalar RPM left out).
//
// A vector is one channel named after its variable; a matrix gives one channel per
// column when it has at least as many rows as columns, else one per row, named
// "name[j]". Values are rounded to float32. Non-numeric, complex and N-d (more than two
// non-singleton dimensions) variables are ErrUnsupported; an empty one is ErrEmpty.
// SignalFromMAT panics if rate <= 0.
func SignalFromMAT(vars []MATVar, variable string, rate float64) (*Signal, error) {
	if rate <= 0 {
		panic(fmt.Sprintf("signal: SignalFromMAT with rate %g", rate))
	}
	var pick []*MATVar
	if variable != "" {
		for i := range vars {
			if vars[i].Name == variable {
				pick = []*MATVar{&vars[i]}
				break
			}
		}
		if pick == nil {
			for i := range vars {
				if strings.HasSuffix(vars[i].Name, variable) {
					pick = append(pick, &vars[i])
				}
			}
		}
		switch {
		case len(pick) == 0:
			return nil, errf(ErrVariable, "no variable %q or ending in it; the file has %s", variable, listVars(vars))
		case len(pick) > 1:
			names := make([]string, len(pick))
			for i, v := range pick {
				names[i] = v.Name
			}
			return nil, errf(ErrVariable, "%q matches %d variables (%s): name one", variable, len(pick), strings.Join(names, ", "))
		}
	} else {
		var cands []*MATVar
		for i := range vars {
			if v := &vars[i]; v.Data != nil && !v.Complex && len(v.Data) > 1 {
				cands = append(cands, v)
			}
		}
		switch len(cands) {
		case 0:
			for i := range vars {
				if !vars[i].Numeric() || vars[i].Complex {
					return nil, checkMATVar(&vars[i])
				}
			}
			return nil, errf(ErrEmpty, "no variable holds more than one value; the file has %s", listVars(vars))
		case 1:
			pick = cands
		default:
			longest := 0
			for _, v := range cands {
				if isVector(v) {
					longest = max(longest, len(v.Data))
				}
			}
			for _, v := range cands {
				if isVector(v) && len(v.Data) == longest {
					pick = append(pick, v)
				}
			}
			if len(pick) == 0 {
				return nil, errf(ErrVariable, "several matrices and no vector: set Options.Variable; the file has %s", listVars(vars))
			}
		}
	}

	s := &Signal{Rate: rate}
	for _, v := range pick {
		if err := checkMATVar(v); err != nil {
			return nil, err
		}
		rows, cols := v.Dims[0], len(v.Data)/max(v.Dims[0], 1)
		if isVector(v) {
			s.Channels = append(s.Channels, toFloat32(v.Data, 0, 1, len(v.Data)))
			s.Names = append(s.Names, v.Name)
			continue
		}
		if rows >= cols { // channels are columns: column j is Data[j*rows : (j+1)*rows]
			for j := 0; j < cols; j++ {
				s.Channels = append(s.Channels, toFloat32(v.Data, j*rows, 1, rows))
				s.Names = append(s.Names, fmt.Sprintf("%s[%d]", v.Name, j))
			}
		} else { // channels are rows: row i is Data[i], Data[i+rows], ...
			for i := 0; i < rows; i++ {
				s.Channels = append(s.Channels, toFloat32(v.Data, i, rows, cols))
				s.Names = append(s.Names, fmt.Sprintf("%s[%d]", v.Name, i))
			}
		}
	}
	return s, nil
}

// checkMATVar says why v cannot be a signal, or nil.
func checkMATVar(v *MATVar) error {
	switch {
	case !v.Numeric():
		return errf(ErrUnsupported, "variable %q is a %s %s array: only numeric arrays are read", v.Name, v.Shape(), v.Class)
	case v.Complex:
		return errf(ErrUnsupported, "variable %q is complex: only real arrays are read", v.Name)
	case len(v.Data) == 0:
		return errf(ErrEmpty, "variable %q is empty (%s)", v.Name, v.Shape())
	}
	big := 0
	for _, d := range v.Dims {
		if d > 1 {
			big++
		}
	}
	if big > 2 {
		return errf(ErrUnsupported, "variable %q is %s: only vectors and matrices are read", v.Name, v.Shape())
	}
	return nil
}

// isVector reports whether v has at most one dimension longer than 1.
func isVector(v *MATVar) bool {
	big := 0
	for _, d := range v.Dims {
		if d > 1 {
			big++
		}
	}
	return big <= 1
}

// toFloat32 returns x[off], x[off+stride], ... (n values) as float32.
func toFloat32(x []float64, off, stride, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(x[off+i*stride])
	}
	return out
}

func listVars(vars []MATVar) string {
	if len(vars) == 0 {
		return "no variables"
	}
	parts := make([]string, len(vars))
	for i := range vars {
		parts[i] = fmt.Sprintf("%s (%s %s)", vars[i].Name, vars[i].Shape(), vars[i].Class)
	}
	return strings.Join(parts, ", ")
}

// matParser walks the data elements of a level 5 MAT-file held in memory.
type matParser struct {
	o binary.ByteOrder
}

func parseMAT(b []byte) ([]MATVar, error) {
	if len(b) == 0 {
		return nil, errf(ErrEmpty, "empty file (0 bytes)")
	}
	if bytes.HasPrefix(b, []byte("MATLAB 7.3")) || (len(b) >= 520 && string(b[512:520]) == "\x89HDF\r\n\x1a\n") {
		return nil, errf(ErrUnsupported, "MATLAB v7.3 (HDF5) MAT-file: not supported; save it with -v7 or -v6")
	}
	if isMATv4(b) {
		return nil, errf(ErrUnsupported, "MATLAB level 4 MAT-file: only level 5 (save -v6, -v7) is read")
	}
	if len(b) < 128 {
		if bytes.HasPrefix(b, []byte("MATLAB")) {
			return nil, errf(ErrTruncated, "header cut short: 128 bytes needed, file has %d", len(b))
		}
		return nil, errf(ErrFormat, "not a MAT-file: %d bytes, starts with %q", len(b), printable(b[:min(len(b), 16)]))
	}
	var p matParser
	switch string(b[126:128]) {
	case "IM":
		p.o = binary.LittleEndian
	case "MI":
		p.o = binary.BigEndian
	default:
		return nil, errf(ErrFormat, "not a level 5 MAT-file: no endian indicator MI/IM at byte 126 (starts with %q)", printable(b[:min(len(b), 16)]))
	}
	if v := p.o.Uint16(b[124:]); v != 0x0100 {
		return nil, errf(ErrUnsupported, "MAT-file version 0x%04X: only 0x0100 (level 5) is read", v)
	}
	var vars []MATVar
	if err := p.elements(b[128:], 128, &vars, true); err != nil {
		return nil, err
	}
	if len(vars) == 0 {
		return nil, errf(ErrEmpty, "MAT-file holds no variables")
	}
	return vars, nil
}

// elements parses the top-level elements in b (at file offset base) into vars.
// top is false inside a decompressed element, which may not hold another one.
func (p *matParser) elements(b []byte, base int, vars *[]MATVar, top bool) error {
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return errf(ErrTruncated, "element header at byte %d cut short: 8 bytes needed, file has %d", base+off, len(b)-off)
		}
		typ, n := p.o.Uint32(b[off:]), uint64(p.o.Uint32(b[off+4:]))
		if typ>>16 != 0 {
			return errf(ErrFormat, "small data element at top level, byte %d", base+off)
		}
		body := uint64(len(b) - off - 8)
		if n > body {
			if top {
				return errf(ErrTruncated, "truncated element at byte %d: tag says %d bytes, file has %d", base+off, n, body)
			}
			return errf(ErrFormat, "element in compressed data: tag says %d bytes, %d inflated", n, body)
		}
		data := b[off+8 : off+8+int(n)]
		switch typ {
		case miMATRIX:
			v, err := p.matrix(data)
			if err != nil {
				return fmt.Errorf("element at byte %d: %w", base+off, err)
			}
			if v.Name != "" {
				*vars = append(*vars, v)
			}
		case miCOMPRESSED:
			if !top {
				return errf(ErrFormat, "compressed element inside a compressed element")
			}
			inner, err := inflate(data)
			if err != nil {
				return fmt.Errorf("compressed element at byte %d: %w", base+off, err)
			}
			if err := p.elements(inner, 0, vars, false); err != nil {
				return fmt.Errorf("compressed element at byte %d: inflated %w", base+off, err)
			}
		default:
			if typ == 0 || typ > miUTF32 {
				return errf(ErrFormat, "element of unknown type %d at byte %d", typ, base+off)
			}
		}
		next := uint64(off) + 8 + n
		if typ != miCOMPRESSED {
			next = (next + 7) &^ 7 // 64-bit alignment; compressed elements are not padded
		}
		off = int(min(next, uint64(len(b))))
	}
	return nil
}

func inflate(data []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, errf(ErrFormat, "bad zlib header: %v", err)
	}
	var out bytes.Buffer
	out.Grow(4 * len(data))
	m, err := io.Copy(&out, io.LimitReader(zr, matMaxInflate+1))
	if err != nil {
		return nil, errf(ErrFormat, "corrupt zlib data after %d bytes: %v", m, err)
	}
	if m > matMaxInflate {
		return nil, errf(ErrUnsupported, "compressed element inflates past %d bytes", int64(matMaxInflate))
	}
	return out.Bytes(), nil
}

// sub reads the sub-element at b[off:]: its type, its data and the offset after it.
// Small data elements pack type and size (<= 4 bytes) into one tag word.
func (p *matParser) sub(b []byte, off int, what string) (typ uint32, data []byte, next int, err error) {
	if len(b)-off < 8 {
		return 0, nil, 0, errf(ErrFormat, "%s missing: matrix element ends", what)
	}
	w := p.o.Uint32(b[off:])
	if n := w >> 16; n != 0 {
		if n > 4 {
			return 0, nil, 0, errf(ErrFormat, "%s: small data element of %d bytes", what, n)
		}
		return w & 0xFFFF, b[off+4 : off+4+int(n)], off + 8, nil
	}
	n := uint64(p.o.Uint32(b[off+4:]))
	if n > uint64(len(b)-off-8) {
		return 0, nil, 0, errf(ErrFormat, "%s: %d bytes, matrix element has %d left", what, n, len(b)-off-8)
	}
	end := off + 8 + int(n)
	return w, b[off+8 : end], min((end+7)&^7, len(b)), nil
}

// matrix parses the body of an miMATRIX element.
func (p *matParser) matrix(b []byte) (MATVar, error) {
	var v MATVar
	if len(b) == 0 { // an empty miMATRIX is allowed (e.g. an empty cell entry)
		return v, nil
	}
	typ, flags, off, err := p.sub(b, 0, "array flags")
	if err != nil {
		return v, err
	}
	if typ != miUINT32 || len(flags) < 8 {
		return v, errf(ErrFormat, "array flags of type %d and %d bytes, want uint32 and 8", typ, len(flags))
	}
	fw := p.o.Uint32(flags)
	class := int(fw & 0xFF)
	if class <= 0 || class >= len(matClasses) || matClasses[class] == "" {
		return v, errf(ErrFormat, "unknown array class %d", class)
	}
	v.Class = matClasses[class]
	v.Complex = fw&0x800 != 0
	if v.Class == "opaque" { // MATLAB class objects: no dims, different layout
		return v, nil
	}
	typ, dims, off, err := p.sub(b, off, "dimensions")
	if err != nil {
		return v, err
	}
	if typ != miINT32 || len(dims) < 8 || len(dims)%4 != 0 {
		return v, errf(ErrFormat, "dimensions of type %d and %d bytes, want int32 and 8 or more", typ, len(dims))
	}
	numel := uint64(1)
	for i := 0; i < len(dims); i += 4 {
		d := int32(p.o.Uint32(dims[i:]))
		if d < 0 {
			return v, errf(ErrFormat, "negative dimension %d", d)
		}
		v.Dims = append(v.Dims, int(d))
		if d > 0 && numel > (1<<40)/uint64(d) {
			return v, errf(ErrFormat, "dimensions %v too large", v.Dims)
		}
		numel *= uint64(d)
	}
	typ, name, off, err := p.sub(b, off, "array name")
	if err != nil {
		return v, err
	}
	if typ != miINT8 && typ != miUINT8 {
		return v, errf(ErrFormat, "array name of type %d, want int8", typ)
	}
	v.Name = string(name)
	if !matNumeric[v.Class] {
		return v, nil
	}
	if fw&0x200 != 0 {
		v.Class = "logical"
	}
	typ, real, _, err := p.sub(b, off, "real part of "+v.Name)
	if err != nil {
		return v, err
	}
	if int(typ) >= len(miSize) || miSize[typ] == 0 {
		return v, errf(ErrFormat, "variable %q: data of non-numeric type %d", v.Name, typ)
	}
	size := uint64(miSize[typ])
	if uint64(len(real)) != numel*size {
		return v, errf(ErrFormat, "variable %q: dimensions %s need %d values, data has %d", v.Name, v.Shape(), numel, uint64(len(real))/size)
	}
	v.Data = make([]float64, numel)
	p.convert(v.Data, real, typ)
	return v, nil
}

// convert decodes the numbers in b, stored as miTYPE typ, into dst.
func (p *matParser) convert(dst []float64, b []byte, typ uint32) {
	o := p.o
	switch typ {
	case miDOUBLE:
		for i := range dst {
			dst[i] = math.Float64frombits(o.Uint64(b[8*i:]))
		}
	case miSINGLE:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(o.Uint32(b[4*i:])))
		}
	case miINT8:
		for i := range dst {
			dst[i] = float64(int8(b[i]))
		}
	case miUINT8:
		for i := range dst {
			dst[i] = float64(b[i])
		}
	case miINT16:
		for i := range dst {
			dst[i] = float64(int16(o.Uint16(b[2*i:])))
		}
	case miUINT16:
		for i := range dst {
			dst[i] = float64(o.Uint16(b[2*i:]))
		}
	case miINT32:
		for i := range dst {
			dst[i] = float64(int32(o.Uint32(b[4*i:])))
		}
	case miUINT32:
		for i := range dst {
			dst[i] = float64(o.Uint32(b[4*i:]))
		}
	case miINT64:
		for i := range dst {
			dst[i] = float64(int64(o.Uint64(b[8*i:])))
		}
	case miUINT64:
		for i := range dst {
			dst[i] = float64(o.Uint64(b[8*i:]))
		}
	}
}

// isMATv4 reports whether b starts like a MATLAB level 4 MAT-file: a header of five
// int32 (type MOPT, rows, columns, imaginary flag, name length) in either byte order,
// followed by a NUL-terminated name.
func isMATv4(b []byte) bool {
	if len(b) < 21 {
		return false
	}
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		mopt := o.Uint32(b)
		imag, namlen := o.Uint32(b[12:]), o.Uint32(b[16:])
		m, zero, prec, t := mopt/1000, mopt/100%10, mopt/10%10, mopt%10
		if m > 4 || zero != 0 || prec > 5 || t > 2 || imag > 1 || namlen == 0 || namlen > 1<<12 {
			continue
		}
		if end := 20 + int(namlen); end <= len(b) && b[end-1] == 0 {
			return true
		}
	}
	return false
}
