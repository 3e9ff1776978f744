// Package realdata finds and unpacks the shared real-machine recordings
// (../shared/data: FEMTO, CWRU, DCASE archives) for tests, evaluations and
// the demo. The archives are .tar.xz, which Go's standard library cannot
// read, so unpacking uses the system tar (with xz).
package realdata

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Archive names in the data folder.
const (
	FEMTO = "femto.tar.xz"
	CWRU  = "cwru.tar.xz"
	DCASE = "dcase2020-id00.tar.xz"
)

// ErrAbsent is returned when no data folder holds the archive asked for.
var ErrAbsent = errors.New("realdata: shared data absent")

// Dir returns the folder holding archive: $MHM_DATA when set, else the
// first shared/data folder found beside the working directory or one of its
// parents (../shared/data from a checkout in /work/main).
func Dir(archive string) (string, error) {
	if d := os.Getenv("MHM_DATA"); d != "" {
		if _, err := os.Stat(filepath.Join(d, archive)); err != nil {
			return "", fmt.Errorf("%w: MHM_DATA=%s has no %s", ErrAbsent, d, archive)
		}
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "shared", "data")
		if _, err := os.Stat(filepath.Join(cand, archive)); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no shared/data/%s beside this folder or its parents, and MHM_DATA unset", ErrAbsent, archive)
		}
		dir = parent
	}
}

// Extract unpacks archive (a path) into dir, all of it or only the named
// members (then --occurrence stops reading once each is found).
func Extract(archive, dir string, members ...string) error {
	for _, tool := range []string{"tar", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: no %s command to unpack %s", ErrAbsent, tool, filepath.Base(archive))
		}
	}
	args := []string{"-xJf", archive, "-C", dir}
	if len(members) > 0 {
		args = append(append(args, "--occurrence"), members...)
	}
	if out, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("realdata: tar %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Unpack finds archive and extracts it (or the named members) into a
// temporary folder of the test, skipping the test with a clear message when
// the data or the tools are absent, and under -short. It returns the folder.
func Unpack(t testing.TB, archive string, members ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("real data (%s) skipped under -short", archive)
	}
	d, err := Dir(archive)
	if err != nil {
		t.Skipf("%v; set MHM_DATA to the folder holding it", err)
	}
	tmp := t.TempDir()
	if err := Extract(filepath.Join(d, archive), tmp, members...); err != nil {
		if errors.Is(err, ErrAbsent) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return tmp
}
