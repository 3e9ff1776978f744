package signal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNaturalLess(t *testing.T) {
	sorted := []string{
		"a", "acc_1.csv", "acc_00002.csv", "acc_2.csv", "acc_00010.csv", "acc_10.csv", "acc_911.csv",
		"acc_x.csv", "b1", "b01c", "b1c", "b2", "normal_0_97.mat", "normal_0_100.mat",
	}
	for i := range sorted {
		for j := range sorted {
			if got, want := NaturalLess(sorted[i], sorted[j]), i < j; got != want {
				t.Errorf("NaturalLess(%q, %q) = %v, want %v", sorted[i], sorted[j], got, want)
			}
		}
	}
	shuffled := slices.Clone(sorted)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, naturalCmp)
	if !slices.Equal(shuffled, sorted) {
		t.Errorf("sorted %q", shuffled)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	bearing := filepath.Join(dir, "Bearing2_1")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{bearing, empty, filepath.Join(bearing, "sub.csv")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"acc_00010.csv", "acc_00002.csv", "acc_00001.csv", "temp_00001.csv", "notes.txt", "README"} {
		if err := os.WriteFile(filepath.Join(bearing, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "x.wav")
	os.WriteFile(other, nil, 0o644)
	j := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(bearing, n)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"folder", []string{bearing}, j("acc_00001.csv", "acc_00002.csv", "acc_00010.csv")},
		{"glob", []string{filepath.Join(bearing, "*_0000?.csv")}, j("acc_00001.csv", "acc_00002.csv", "temp_00001.csv")},
		{"files in the given order", []string{other, filepath.Join(bearing, "notes.txt"), bearing},
			append([]string{other}, j("notes.txt", "acc_00001.csv", "acc_00002.csv", "acc_00010.csv")...)},
		{"nothing", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Expand(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Expand = %q\nwant %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		arg  string
		kind error
		msg  string
	}{
		{"empty folder", empty, ErrNoFiles, "signal: expand " + empty + ": the folder holds no .wav, .mat or .csv file"},
		{"glob without match", filepath.Join(dir, "*.flac"), ErrNoFiles, "signal: expand " + filepath.Join(dir, "*.flac") + ": the pattern matches no file"},
		{"missing", filepath.Join(dir, "nope.wav"), fs.ErrNotExist, "signal: expand " + filepath.Join(dir, "nope.wav") + ": no such file or folder"},
		{"bad pattern", filepath.Join(dir, "[.wav"), filepath.ErrBadPattern, "syntax error in pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Expand([]string{other, tc.arg})
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v saying %q", err, tc.kind, tc.msg)
			}
		})
	}
}
