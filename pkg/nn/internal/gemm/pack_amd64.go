//go:build amd64 && !noasm

package gemm

// copyRows16 copies rows (>= 1) runs of 16 floats, src[p*lds:] to
// dst[p*16:] (pack_amd64.s).
//
//go:noescape
func copyRows16(dst, src *float32, lds, rows int)

// copyRows8 copies rows (>= 1) runs of 8 floats, src[p*lds:] to dst[p*8:].
//
//go:noescape
func copyRows8(dst, src *float32, lds, rows int)

// hasCopyAsm: the copies need AVX (implied by the AVX2 of every amd64
// machine this runs on; checked anyway).
var hasCopyAsm = hasAVX2

// transpose8 transposes one 8×8 block: dst[j*ldd+i] = src[i*lds+j].
//
//go:noescape
func transpose8(dst *float32, ldd int, src *float32, lds int)
