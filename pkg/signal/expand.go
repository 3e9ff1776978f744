package signal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// folderExts are the extensions Expand takes from a folder (.txt is left out: a folder
// of recordings often holds a readme).
var folderExts = map[string]bool{".wav": true, ".wave": true, ".mat": true, ".csv": true, ".tsv": true}

// Expand turns the PATHS of a command line into a list of files, keeping the order of
// args:
//
//   - an existing file is kept as given, whatever its extension;
//   - a folder gives the supported files directly inside it (.wav, .wave, .mat, .csv,
//     .tsv; not recursive), in natural order (acc_00002 before acc_00010, see
//     NaturalLess); FEMTO temperature files temp_*.csv are left out;
//   - a pattern with *, ? or [ is expanded by filepath.Glob, the matching files (not
//     folders) in natural order.
//
// A folder or pattern that yields no file is an error naming it (ErrNoFiles), as is a
// path that does not exist (wrapping fs.ErrNotExist) or a malformed pattern.
// Duplicates are kept.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		switch {
		case err == nil && st.IsDir():
			entries, err := os.ReadDir(arg)
			if err != nil {
				return nil, fmt.Errorf("signal: expand %s: %w", arg, err)
			}
			var files []string
			for _, e := range entries {
				name := e.Name()
				ext := strings.ToLower(filepath.Ext(name))
				if !folderExts[ext] || strings.HasPrefix(strings.ToLower(name), "temp_") && ext == ".csv" {
					continue
				}
				if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
					if e.Type()&fs.ModeSymlink != 0 {
						if st, err := os.Stat(filepath.Join(arg, name)); err != nil || !st.Mode().IsRegular() {
							continue
						}
					}
					files = append(files, filepath.Join(arg, name))
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("signal: expand %s: %w", arg, errf(ErrNoFiles, "the folder holds no .wav, .mat or .csv file"))
			}
			slices.SortFunc(files, naturalCmp)
			out = append(out, files...)
		case err == nil:
			out = append(out, arg)
		case strings.ContainsAny(arg, "*?["):
			matches, gerr := filepath.Glob(arg)
			if gerr != nil {
				return nil, fmt.Errorf("signal: expand %s: %w", arg, gerr)
			}
			var files []string
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
					files = append(files, m)
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("signal: expand %s: %w", arg, errf(ErrNoFiles, "the pattern matches no file"))
			}
			slices.SortFunc(files, naturalCmp)
			out = append(out, files...)
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("signal: expand %s: %w", arg, errf(fs.ErrNotExist, "no such file or folder"))
		default:
			return nil, fmt.Errorf("signal: expand %s: %w", arg, err)
		}
	}
	return out, nil
}

// NaturalLess reports whether a sorts before b in natural order: runs of digits compare
// as numbers (acc_2 < acc_10, acc_00002 < acc_00010), everything else byte by byte;
// when that finds no difference, more leading zeros sort first (acc_00002 < acc_2).
func NaturalLess(a, b string) bool { return naturalCmp(a, b) < 0 }

func naturalCmp(a, b string) int {
	i, j, zeros := 0, 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			da, db := strings.TrimLeft(a[si:i], "0"), strings.TrimLeft(b[sj:j], "0")
			if len(da) != len(db) {
				return cmpInt(len(da), len(db))
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			if zeros == 0 { // same number: the first difference in leading zeros breaks a tie
				zeros = -cmpInt(i-si, j-sj)
			}
			continue
		}
		if ca != cb {
			return cmpInt(int(ca), int(cb))
		}
		i++
		j++
	}
	if c := cmpInt(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return zeros
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
