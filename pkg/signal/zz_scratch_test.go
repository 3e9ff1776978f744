package signal

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestScratchMut(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, name := range []string{"48k_cwru_like.good.mat", "48k_cwru_like_z.good.mat", "IR014_0_174_be.good.mat", "types.good.mat", "truncated.bad.mat", "dims.bad.mat"} {
		b0, _ := os.ReadFile(filepath.Join(testdata, name))
		for k := 0; k < 3000; k++ {
			b := bytes.Clone(b0)
			for m := 0; m < 1+r.IntN(4); m++ {
				i := r.IntN(len(b))
				switch r.IntN(3) {
				case 0:
					b[i] ^= 1 << r.IntN(8)
				case 1:
					b[i] = byte(r.IntN(256))
				case 2:
					b[i] = 0xff
				}
			}
			st := time.Now()
			DecodeMAT(bytes.NewReader(b))
			if d := time.Since(st); d > 200*time.Millisecond {
				t.Logf("%s k=%d took %v", name, k, d)
				os.WriteFile("/tmp/slow.mat", b, 0o644)
				return
			}
		}
	}
}
