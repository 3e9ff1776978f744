// Package npy writes and reads float32 arrays in NumPy's .npy format
// (version 1.0, little-endian, C order), so that anyone can check mhm's
// outputs with numpy.load.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// ErrFormat is returned for bytes that are not a float32 .npy array.
var ErrFormat = errors.New("npy: not a little-endian float32 .npy file")

var magic = []byte("\x93NUMPY\x01\x00")

// WriteFloat32 writes data, of the given shape in C (row-major) order, as a
// .npy file to w. It panics if the shape's product is not len(data).
func WriteFloat32(w io.Writer, data []float32, shape ...int) error {
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		n *= d
		dims[i] = strconv.Itoa(d)
	}
	if n != len(data) {
		panic(fmt.Sprintf("npy: shape %v holds %d values, have %d", shape, n, len(data)))
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// Magic (8) + header length (2) + header + padding + '\n' is a multiple of 64.
	total := len(magic) + 2 + len(header) + 1
	if pad := (64 - total%64) % 64; pad > 0 {
		header += strings.Repeat(" ", pad)
	}
	header += "\n"
	bw := bufio.NewWriter(w)
	bw.Write(magic)
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	var buf [4]byte
	for _, v := range data {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
		bw.Write(buf[:])
	}
	return bw.Flush()
}

// WriteFile writes data of the given shape to path as .npy.
func WriteFile(path string, data []float32, shape ...int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteFloat32(f, data, shape...); err != nil {
		f.Close()
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	return f.Close()
}

var shapeRE = regexp.MustCompile(`'shape':\s*\(([0-9,\s]*)\)`)

// ReadFloat32 reads a version 1.0 little-endian float32 C-order .npy array
// and returns its values and shape.
func ReadFloat32(r io.Reader) ([]float32, []int, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if string(pre[:8]) != string(magic) {
		return nil, nil, fmt.Errorf("%w: bad magic or version", ErrFormat)
	}
	header := make([]byte, binary.LittleEndian.Uint16(pre[8:]))
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, nil, fmt.Errorf("%w: truncated header", ErrFormat)
	}
	h := string(header)
	if !strings.Contains(h, "'descr': '<f4'") || !strings.Contains(h, "'fortran_order': False") {
		return nil, nil, fmt.Errorf("%w: header %q", ErrFormat, strings.TrimSpace(h))
	}
	m := shapeRE.FindStringSubmatch(h)
	if m == nil {
		return nil, nil, fmt.Errorf("%w: no shape in header", ErrFormat)
	}
	var shape []int
	n := 1
	for _, s := range strings.Split(m[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 {
			return nil, nil, fmt.Errorf("%w: shape %q", ErrFormat, m[1])
		}
		shape = append(shape, d)
		n *= d
	}
	raw := make([]byte, 4*n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("%w: %d values announced, data truncated", ErrFormat, n)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return data, shape, nil
}
