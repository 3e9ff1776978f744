// Package signal reads recordings of machine sensors into memory: WAV audio, FEMTO-ST
// PRONOSTIA accelerometer snapshots (acc_NNNNN.csv), CWRU bearing data (MATLAB level 5
// MAT-files) and generic numeric CSV.
//
// Read picks the reader from the file name (or Options.Format) and returns a Signal:
// a sample rate in Hz, one float32 slice per channel, channel names where the format
// has them and the start time where it gives one. Expand turns command-line PATHS
// (files, folders, globs) into a file list in natural order.
//
// Integer WAV samples are scaled to [-1, 1) by x/2^(bits-1); FEMTO values are in g;
// MAT and CSV values are passed through, rounded to float32.
//
// Errors name the file and what is wrong and wrap a sentinel (ErrFormat,
// ErrTruncated, ErrEmpty, ErrUnsupported, ErrVariable, ErrRate, ErrNoFiles):
//
//	signal: read data/x.wav: truncated data chunk: header says 320000 bytes, file has 1200
//
// Every reader is this package's own code, written to the published layouts (the
// Microsoft RIFF/WAVE and WAVE_FORMAT_EXTENSIBLE specifications, MathWorks' "MAT-File
// Format" for level 5), checked against scipy.io on generated files and on the real
// data sets; docs/signal.md says why no library was used.
package signal
