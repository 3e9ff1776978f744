//go:build !amd64 || noasm

package gemm

const hasCopyAsm = false

func copyRows16(dst, src *float32, lds, rows int) { panic("unreachable") }
func copyRows8(dst, src *float32, lds, rows int)  { panic("unreachable") }

func transpose8(dst *float32, ldd int, src *float32, lds int) { panic("unreachable") }
