package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ErrLabelFile is wrapped by the errors of [ReadLabels].
var ErrLabelFile = errors.New("eval: bad label file")

// labelWord maps a label word to its class; ok is false for other words.
func labelWord(w string) (label int, ok bool) {
	switch strings.ToLower(strings.TrimSpace(w)) {
	case "normal", "0":
		return Normal, true
	case "anomaly", "anomalous", "abnormal", "1":
		return Anomaly, true
	}
	return 0, false
}

// nameLabel looks for the words "normal" and "anomaly" (or "anomalous",
// "abnormal") among the tokens of name split at every character that is not
// a letter or digit.
func nameLabel(name string) (label int, ok bool) {
	var normal, anomaly bool
	for _, tok := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		switch tok {
		case "normal":
			normal = true
		case "anomaly", "anomalous", "abnormal":
			anomaly = true
		}
	}
	switch {
	case normal && !anomaly:
		return Normal, true
	case anomaly && !normal:
		return Anomaly, true
	}
	return 0, false
}

// LabelFromName returns the label a file's name gives, as DCASE names its
// clips: "normal_id_00_00000000.wav" → [Normal], "anomaly_id_00_00000000.wav"
// → [Anomaly], and the DCASE 2021+ form
// "section_00_source_test_anomaly_0001.wav" likewise. The base name is split
// into words at every character that is not a letter or digit
// (case-insensitive); "anomalous" and "abnormal" count as "anomaly". If the
// base name has neither word, the parent folder's name is tried (MIMII keeps
// clips in normal/ and abnormal/ folders). ok is false when no name has
// exactly one of the two.
func LabelFromName(path string) (label int, ok bool) {
	path = slashes(path)
	base := path
	dir := ""
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		base, dir = path[i+1:], path[:i]
	}
	if l, ok := nameLabel(strings.TrimSuffix(base, filepath.Ext(base))); ok {
		return l, true
	}
	if dir != "" {
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			dir = dir[i+1:]
		}
		return nameLabel(dir)
	}
	return 0, false
}

// slashes turns Windows separators into slashes, on every OS.
func slashes(p string) string { return strings.ReplaceAll(p, `\`, "/") }

// Labels maps file names to labels, as read from a CSV by [ReadLabels].
type Labels map[string]int

// Lookup returns the label of path: the entry for path as given, else for
// its cleaned form with slashes (backslashes count as separators), else for
// its base name.
func (l Labels) Lookup(path string) (label int, ok bool) {
	if v, ok := l[path]; ok {
		return v, true
	}
	clean := slashes(filepath.Clean(slashes(path)))
	if v, ok := l[clean]; ok {
		return v, true
	}
	v, ok := l[clean[strings.LastIndexByte(clean, '/')+1:]]
	return v, ok
}

// ReadLabels reads a CSV of "file,label" rows. A label is 0, 1, normal,
// anomaly, anomalous or abnormal (case-insensitive). A first row whose label
// is not one of these is taken as a header ("file,label"); lines starting
// with '#' are comments; surrounding spaces are trimmed. Keys are stored as
// written, with backslashes turned into slashes. A bad label after the first
// row, a row without two fields, or the same file given two different labels
// is an error wrapping [ErrLabelFile] with the line number.
func ReadLabels(r io.Reader) (Labels, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	out := Labels{}
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrLabelFile, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 2 {
			return nil, fmt.Errorf("%w: line %d: want file,label, have %d field(s)", ErrLabelFile, line, len(rec))
		}
		name := slashes(strings.TrimSpace(rec[0]))
		l, ok := labelWord(rec[1])
		if !ok {
			if row == 0 {
				continue // header
			}
			return nil, fmt.Errorf("%w: line %d: label %q (want 0, 1, normal or anomaly)", ErrLabelFile, line, rec[1])
		}
		if name == "" {
			return nil, fmt.Errorf("%w: line %d: empty file name", ErrLabelFile, line)
		}
		if prev, dup := out[name]; dup && prev != l {
			return nil, fmt.Errorf("%w: line %d: %s labelled both %d and %d", ErrLabelFile, line, name, prev, l)
		}
		out[name] = l
	}
	return out, nil
}
