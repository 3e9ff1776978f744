package npy

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	data := []float32{1, -2.5, 3e-8, 4, 5, 6}
	var buf bytes.Buffer
	if err := WriteFloat32(&buf, data, 2, 3); err != nil {
		t.Fatal(err)
	}
	if (buf.Len()-4*len(data))%64 != 0 {
		t.Errorf("header not aligned: %d bytes in all", buf.Len())
	}
	got, shape, err := ReadFloat32(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != 2 || shape[1] != 3 {
		t.Errorf("shape %v", shape)
	}
	for i := range data {
		if got[i] != data[i] {
			t.Errorf("value %d: %v, want %v", i, got[i], data[i])
		}
	}
	if _, _, err := ReadFloat32(bytes.NewReader(buf.Bytes()[:buf.Len()-1])); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated: %v", err)
	}
}

// TestNumpyReads checks the file with numpy itself when it is installed.
func TestNumpyReads(t *testing.T) {
	py := "/usr/bin/python3" // Debian's, where python3-numpy installs
	if _, err := os.Stat(py); err != nil {
		t.Skip("/usr/bin/python3 not found")
	}
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("numpy not installed")
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteFile(path, []float32{1, 2, 3, 4, 5, 6}, 3, 2); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, a[2,1])", path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "float32 (3, 2) 6.0" {
		t.Errorf("numpy read %q", got)
	}
	os.Remove(path)
}
