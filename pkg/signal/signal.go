package signal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Signal is a multichannel recording held in memory.
//
// Channels[c][i] is sample i of channel c, in the file's unit: full scale [-1, 1) for
// integer WAV, g for FEMTO, the stored value for MAT and CSV. All channels have the
// same length.
type Signal struct {
	// Rate is the sample rate in Hz (samples per second per channel).
	Rate float64
	// Channels holds one slice per channel, all of the same length.
	Channels [][]float32
	// Names are the channel names where the format has them (FEMTO: "horizontal",
	// "vertical"; MAT: the variable names; CSV: the header row), else nil. When not nil,
	// len(Names) == len(Channels).
	Names []string
	// StartNs is the time of the first sample in nanoseconds, when the format gives one,
	// else 0. FEMTO gives only a time of day, so its StartNs counts from midnight
	// (as if the day were 1970-01-01 UTC).
	StartNs int64
}

// NumChannels returns the number of channels.
func (s *Signal) NumChannels() int { return len(s.Channels) }

// Len returns the number of samples per channel (0 for a signal without channels).
func (s *Signal) Len() int {
	if len(s.Channels) == 0 {
		return 0
	}
	return len(s.Channels[0])
}

// Channel returns channel i (not a copy). It panics if i is out of range.
func (s *Signal) Channel(i int) []float32 {
	if i < 0 || i >= len(s.Channels) {
		panic(fmt.Sprintf("signal: channel %d out of range [0, %d)", i, len(s.Channels)))
	}
	return s.Channels[i]
}

// ChannelIndex returns the index of the channel called name, or -1 if there is none.
func (s *Signal) ChannelIndex(name string) int {
	for i, n := range s.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// Duration returns Len()/Rate as a time.Duration (int64 nanoseconds, rounded to the
// nearest), or 0 when Rate <= 0.
func (s *Signal) Duration() time.Duration {
	if s.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(s.Len())/s.Rate*1e9 + 0.5)
}

// The formats Read knows, for Options.Format.
const (
	FormatWAV   = "wav"   // RIFF/WAVE: PCM 8/16/24/32-bit, IEEE float 32/64-bit, extensible
	FormatMAT   = "mat"   // MATLAB level 5 MAT-file (CWRU)
	FormatFEMTO = "femto" // FEMTO-ST PRONOSTIA acc_NNNNN.csv
	FormatCSV   = "csv"   // generic numeric CSV, one column per channel
)

// Options tells Read how to read a file. The zero value reads WAV, FEMTO and the CWRU
// files whose names give their rate (see CWRURate); generic CSV and other MAT files
// need Rate.
type Options struct {
	// Rate is the sample rate in Hz for formats that do not store one: required for
	// generic CSV, and for MAT files whose name does not give it (CWRURate). For FEMTO
	// it replaces the default of 25,600 Hz. For WAV the header is authoritative: a
	// non-zero Rate that differs from it is an error (ErrRate).
	Rate float64
	// Variable picks the MAT variable: its exact name, or else the one name that ends
	// with it (e.g. "_DE_time" for the drive-end accelerometer of a CWRU file). Empty
	// means the defaults of SignalFromMAT.
	Variable string
	// Format forces a format (FormatWAV, FormatMAT, FormatFEMTO, FormatCSV) instead of
	// choosing one from the file name and content.
	Format string
}

// FEMTORate is the sample rate of the FEMTO-ST PRONOSTIA accelerometers, in Hz.
const FEMTORate = 25600

// Read reads the file at path into a Signal.
//
// The format is opt.Format when set, else chosen by extension: .wav/.wave are WAV,
// .mat is MAT, and .csv/.tsv/.txt are FEMTO when the file is called acc_*.csv or its
// first line has FEMTO's shape (six numeric columns whose first four are a time of
// day: hour < 24, minute < 60, second < 60, microsecond < 1e6), else generic CSV.
//
// Errors name the file and what is wrong, and wrap one of the Err* sentinels
// (errors.Is), for example:
//
//	signal: read data/x.wav: truncated data chunk: header says 320000 bytes, file has 1200
//
// Read allocates the whole signal; float32 samples take 4 bytes × channels × length.
func Read(path string, opt Options) (*Signal, error) {
	format := opt.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".wav", ".wave":
			format = FormatWAV
		case ".mat":
			format = FormatMAT
		case ".csv", ".tsv", ".txt":
			format = "csv-auto"
		default:
			return nil, fileErr(path, errf(ErrUnsupported,
				"unknown extension %q: want .wav, .mat or .csv, or set Options.Format", filepath.Ext(path)))
		}
	}
	switch format {
	case FormatWAV:
		s, err := ReadWAV(path)
		if err != nil {
			return nil, err
		}
		if opt.Rate != 0 && opt.Rate != s.Rate {
			return nil, fileErr(path, errf(ErrRate, "header says %g Hz, Options.Rate says %g Hz", s.Rate, opt.Rate))
		}
		return s, nil
	case FormatMAT:
		return ReadMAT(path, opt)
	case FormatFEMTO:
		return readCSVFile(path, csvFEMTO, opt.Rate)
	case FormatCSV:
		return readCSVFile(path, csvGeneric, opt.Rate)
	case "csv-auto":
		return readCSVFile(path, csvAuto, opt.Rate)
	}
	return nil, fileErr(path, errf(ErrUnsupported, "unknown format %q: want %q, %q, %q or %q",
		format, FormatWAV, FormatMAT, FormatFEMTO, FormatCSV))
}

// Sentinel errors. Every error of this package wraps one of them (or an *fs.PathError
// from opening the file); test with errors.Is.
var (
	// ErrFormat: the file is not in the format it claims or is malformed.
	ErrFormat = errors.New("signal: wrong or malformed format")
	// ErrTruncated: the file ends before its own headers say it should.
	ErrTruncated = errors.New("signal: truncated file")
	// ErrEmpty: the file is empty or holds no samples.
	ErrEmpty = errors.New("signal: no samples")
	// ErrUnsupported: a valid file using a feature this package does not read
	// (compressed WAV, MAT v7.3, cell arrays, ...).
	ErrUnsupported = errors.New("signal: unsupported")
	// ErrVariable: the MAT variable asked for is missing or ambiguous.
	ErrVariable = errors.New("signal: no such variable")
	// ErrRate: the sample rate is unknown (generic CSV, MAT) or contradicts the file.
	ErrRate = errors.New("signal: sample rate")
	// ErrNoFiles: a folder or glob given to Expand names no supported file.
	ErrNoFiles = errors.New("signal: no files")
)

// detailError is an error with a full message that unwraps to a sentinel.
type detailError struct {
	kind error
	msg  string
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.kind }

func errf(kind error, format string, args ...any) error {
	return &detailError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// fileError prefixes an error with the file it concerns.
type fileError struct {
	op, path string
	err      error
}

func (e *fileError) Error() string { return "signal: " + e.op + " " + e.path + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

func fileErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) { // already names the file: open x: no such file or directory
		return fmt.Errorf("signal: %w", err)
	}
	return &fileError{op: "read", path: path, err: err}
}

// decodeErr prefixes an error of a Decode* function (no file name known).
func decodeErr(format string, err error) error {
	return &fileError{op: "decode", path: format, err: err}
}

// fileSize returns the size of f, or -1 if it is unknown.
func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}
