package wire

import (
	"fmt"
	"testing"
)

// BenchmarkRawFrame measures encode and decode-with-reuse of a frame of n
// samples; both must report 0 allocs/op.
func BenchmarkRawFrame(b *testing.B) {
	for _, enc := range []Encoding{Int16, Float32} {
		for _, n := range []int{1024, 8000} {
			f := sampleFrame(enc, n)
			buf := AppendRawFrame(nil, f)
			b.Run(fmt.Sprintf("encode/%s/%d", enc, n), func(b *testing.B) {
				dst := make([]byte, 0, len(buf))
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				for b.Loop() {
					dst = AppendRawFrame(dst[:0], f)
				}
			})
			b.Run(fmt.Sprintf("decode/%s/%d", enc, n), func(b *testing.B) {
				var g RawFrame
				if err := DecodeRawFrame(&g, buf); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				for b.Loop() {
					if err := DecodeRawFrame(&g, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPatch measures encode and decode-with-reuse of a 5×128 patch
// (the DCASE baseline's 640-value vector); both must report 0 allocs/op.
func BenchmarkPatch(b *testing.B) {
	p := samplePatch(5, 128)
	buf := AppendPatch(nil, p)
	b.Run("encode", func(b *testing.B) {
		dst := make([]byte, 0, len(buf))
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			dst = AppendPatch(dst[:0], p)
		}
	})
	b.Run("decode", func(b *testing.B) {
		var q Patch
		if err := DecodePatch(&q, buf); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			if err := DecodePatch(&q, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodeNoAlloc asserts the benchmarks' claim in the ordinary test run.
func TestDecodeNoAlloc(t *testing.T) {
	fb := AppendRawFrame(nil, sampleFrame(Int16, 8000))
	pb := AppendPatch(nil, samplePatch(5, 128))
	var f RawFrame
	var p Patch
	_ = DecodeRawFrame(&f, fb)
	_ = DecodePatch(&p, pb)
	dst := make([]byte, 0, 1<<16)
	if n := testing.AllocsPerRun(100, func() {
		_ = DecodeRawFrame(&f, fb)
		_ = DecodePatch(&p, pb)
		dst = AppendRawFrame(dst[:0], &f)
		dst = AppendPatch(dst[:0], &p)
	}); n != 0 {
		t.Fatalf("steady-state decode/encode allocates %v times per run, want 0", n)
	}
}
