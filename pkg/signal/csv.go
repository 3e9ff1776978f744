package signal

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

type csvMode int

const (
	csvAuto csvMode = iota
	csvGeneric
	csvFEMTO
)

// ReadFEMTO reads a FEMTO-ST PRONOSTIA accelerometer snapshot acc_NNNNN.csv: rows of
// hour, minute, second, microsecond, horizontal acceleration (g), vertical acceleration
// (g), separated by commas or semicolons. The Signal has two channels named
// "horizontal" and "vertical", Rate FEMTORate (25,600 Hz), and StartNs the time of day
// of the first row: ((hour·60 + minute)·60 + second)·1e9 + microsecond·1e3 ns since
// midnight (the files give no date). Every row must have the six columns, all numeric.
// Allocation and speed as ReadCSV.
func ReadFEMTO(path string) (*Signal, error) { return readCSVFile(path, csvFEMTO, 0) }

// DecodeFEMTO reads a FEMTO snapshot from r, as ReadFEMTO does.
func DecodeFEMTO(r io.Reader) (*Signal, error) {
	s, err := decodeCSV(r, csvFEMTO, "", 0, -1)
	if err != nil {
		return nil, decodeErr("femto csv", err)
	}
	return s, nil
}

// ReadCSV reads a generic numeric CSV file with one column per channel, sampled at rate
// Hz (ErrRate if rate <= 0).
//
// The separator is found on the first line: a tab if it has one, else a semicolon if
// it has one, else a comma (a single column needs none). When a field of the first
// line is not a number, that line is a header and gives the channel names (quotes and
// spaces trimmed). Blank lines and lines starting with '#' are skipped, CRLF line
// endings are accepted, and spaces around fields are ignored. Numbers are parsed by
// strconv.ParseFloat (so "1e-3", "NaN" and "Inf" are numbers) and rounded once to
// float32. Every row must have as many fields as the first line: a short last line
// without its newline is ErrTruncated, any other ragged row ErrFormat.
//
// The file is read through a 64 KiB buffer; the channels are allocated up front from
// the file size and the first line's length and grow by doubling; parsing allocates
// nothing per value.
func ReadCSV(path string, rate float64) (*Signal, error) {
	if rate <= 0 {
		return nil, fileErr(path, errf(ErrRate, "a generic CSV file does not store its sample rate: give it (Options.Rate)"))
	}
	return readCSVFile(path, csvGeneric, rate)
}

// DecodeCSV reads a generic numeric CSV stream from r, as ReadCSV does.
func DecodeCSV(r io.Reader, rate float64) (*Signal, error) {
	if rate <= 0 {
		return nil, decodeErr("csv", errf(ErrRate, "a generic CSV file does not store its sample rate: give it"))
	}
	s, err := decodeCSV(r, csvGeneric, "", rate, -1)
	if err != nil {
		return nil, decodeErr("csv", err)
	}
	return s, nil
}

func readCSVFile(path string, mode csvMode, rate float64) (*Signal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	defer f.Close()
	s, err := decodeCSV(f, mode, filepath.Base(path), rate, fileSize(f))
	if err != nil {
		return nil, fileErr(path, err)
	}
	return s, nil
}

// isFEMTOName reports whether a base name is that of a FEMTO accelerometer snapshot.
func isFEMTOName(name string) bool {
	name = strings.ToLower(name)
	return strings.HasPrefix(name, "acc_") && (strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".txt"))
}

// csvParser holds the state of one CSV decode.
type csvParser struct {
	sep     byte
	nfields int
	line    int
	cols    [][]float32 // one per field; nil for FEMTO's time columns
	femto   bool
	first   [4]float64 // FEMTO time of the first row
	rows    int
	long    []byte // reused for lines longer than the read buffer
}

func decodeCSV(r io.Reader, mode csvMode, name string, rate float64, size int64) (*Signal, error) {
	if size == 0 {
		return nil, errf(ErrEmpty, "empty file (0 bytes)")
	}
	br := bufio.NewReaderSize(r, 64<<10)
	p := &csvParser{nfields: -1}
	var names []string
	for {
		line, complete, err := p.readLine(br)
		if err != nil {
			return nil, err
		}
		if line == nil {
			break
		}
		p.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return nil, errf(ErrFormat, "line %d: binary data (a NUL byte), not text", p.line)
		}
		if p.nfields < 0 { // first content line: separator, header, mode, allocation
			p.sep = ','
			if bytes.IndexByte(line, '\t') >= 0 {
				p.sep = '\t'
			} else if bytes.IndexByte(line, ';') >= 0 {
				p.sep = ';'
			}
			fields := bytes.Split(line, []byte{p.sep})
			p.nfields = len(fields)
			header := false
			for _, f := range fields {
				if _, err := strconv.ParseFloat(string(bytes.TrimSpace(f)), 64); err != nil {
					header = true
					break
				}
			}
			if header {
				names = make([]string, len(fields))
				for i, f := range fields {
					names[i] = strings.Trim(strings.TrimSpace(string(f)), `"'`)
				}
			}
			switch mode {
			case csvAuto:
				p.femto = isFEMTOName(name) || (!header && p.nfields == 6 && timeOfDay(fields))
				if !p.femto && rate <= 0 {
					return nil, errf(ErrRate, "a generic CSV file does not store its sample rate: set Options.Rate (or Format %q if it is a FEMTO file)", FormatFEMTO)
				}
			case csvFEMTO:
				p.femto = true
			}
			if p.femto && p.nfields != 6 {
				return nil, errf(ErrFormat, "line %d has %d columns: a FEMTO file has 6 (hour, minute, second, microsecond, horizontal, vertical)", p.line, p.nfields)
			}
			p.cols = make([][]float32, p.nfields)
			est := 1024
			if size > 0 {
				est = int(min(size/int64(len(line)+1)*21/20+16, 1<<28))
			}
			for c := range p.cols {
				if !p.femto || c >= 4 {
					p.cols[c] = make([]float32, 0, est)
				}
			}
			if header {
				continue
			}
		}
		if err := p.row(line, complete); err != nil {
			return nil, err
		}
	}
	if p.rows == 0 {
		if p.nfields < 0 {
			return nil, errf(ErrEmpty, "no data: the file has no rows")
		}
		return nil, errf(ErrEmpty, "no data rows after the header")
	}
	s := &Signal{Rate: rate}
	if p.femto {
		if s.Rate <= 0 {
			s.Rate = FEMTORate
		}
		s.Channels = [][]float32{p.cols[4], p.cols[5]}
		s.Names = []string{"horizontal", "vertical"}
		h, m, sec, us := p.first[0], p.first[1], p.first[2], p.first[3]
		s.StartNs = int64(math.Round(((h*60+m)*60+sec)*1e9 + us*1e3))
		return s, nil
	}
	s.Channels = p.cols
	s.Names = names
	return s, nil
}

// readLine returns the next line without its '\n' (nil at the end of the input), and
// whether it ended with a newline. Lines longer than the buffer are gathered in p.long.
func (p *csvParser) readLine(br *bufio.Reader) ([]byte, bool, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			p.long = append(p.long, line...)
		}
		line = p.long
	}
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	if len(line) == 0 {
		return nil, false, nil
	}
	if line[len(line)-1] == '\n' {
		return line[:len(line)-1], true, nil
	}
	return line, false, nil
}

// row parses one data line into the columns.
func (p *csvParser) row(line []byte, complete bool) error {
	col := 0
	for rest := line; ; {
		field := rest
		i := bytes.IndexByte(rest, p.sep)
		if i >= 0 {
			field = rest[:i]
		}
		if col >= p.nfields {
			return errf(ErrFormat, "line %d has %d fields, the first line has %d", p.line, bytes.Count(line, []byte{p.sep})+1, p.nfields)
		}
		field = bytes.TrimSpace(field)
		if len(field) == 0 {
			return errf(ErrFormat, "line %d, column %d: empty value", p.line, col+1)
		}
		if p.femto && col < 4 {
			v, err := parseFloat64(field)
			if err != nil {
				return p.notNumber(field, col, complete)
			}
			if p.rows == 0 {
				p.first[col] = v
			}
		} else {
			v, err := parseFloat32(field)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return p.notNumber(field, col, complete)
			}
			p.cols[col] = append(p.cols[col], v)
		}
		col++
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if col < p.nfields {
		if !complete {
			return errf(ErrTruncated, "last line %d has %d fields, the first line has %d: the file is cut short", p.line, col, p.nfields)
		}
		return errf(ErrFormat, "line %d has %d fields, the first line has %d", p.line, col, p.nfields)
	}
	p.rows++
	return nil
}

func (p *csvParser) notNumber(field []byte, col int, complete bool) error {
	if !complete {
		return errf(ErrTruncated, "last line %d, column %d: %q is not a number: the file is cut short", p.line, col+1, field)
	}
	return errf(ErrFormat, "line %d, column %d: %q is not a number", p.line, col+1, field)
}

// timeOfDay reports whether the first four fields are an hour, minute, second and
// microsecond, as in FEMTO's files.
func timeOfDay(fields [][]byte) bool {
	limits := [4]float64{24, 60, 61, 1e6}
	for i, lim := range limits {
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(fields[i])), 64)
		if err != nil || v < 0 || v >= lim || (i < 3 && v != math.Trunc(v)) {
			return false
		}
	}
	return true
}
