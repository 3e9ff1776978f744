package gemm

// packA copies the mc×kc block of op(A) whose top-left element is op(A)(i0, p0)
// into dst as row slivers of ks.mr rows: sliver s holds rows s*mr.. in
// k-major order, element (i, p) of the sliver at s*mr*kc + p*mr + i. The last
// sliver keeps the stride mr even when it has fewer rows (the kernel for the
// shorter tile reads only its rows), so nothing is zero-filled.
func packA(dst []float32, mr int, transA bool, a []float32, lda, i0, p0, mc, kc int) {
	if transA {
		// op(A)(i, p) = a[p*lda + i]: walk the rows of the stored A^T in
		// order (one contiguous run of mc values per p) and scatter each
		// run over the slivers.
		for p := 0; p < kc; p++ {
			src := a[(p0+p)*lda+i0:]
			src = src[:mc]
			s := 0
			if mr == 6 {
				for ; s+6 <= mc; s += 6 {
					d := dst[s*kc+p*6:]
					d = d[:6:6]
					x := src[s : s+6 : s+6]
					d[0], d[1], d[2], d[3], d[4], d[5] = x[0], x[1], x[2], x[3], x[4], x[5]
				}
			}
			for ; s < mc; s += mr {
				rows := min(mr, mc-s)
				d := dst[s*kc+p*mr:]
				copy(d[:rows], src[s:s+rows])
			}
		}
		return
	}
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		d := dst[s*kc : s*kc+kc*mr]
		for i := 0; i < rows; i++ {
			src := a[(i0+s+i)*lda+p0:]
			src = src[:kc]
			for p, v := range src {
				d[p*mr+i] = v
			}
		}
	}
}

// packB copies the kc×w sliver of op(B) whose top-left element is
// op(B)(p0, j0) into dst (k-major, element (p, j) at p*w + j), w >= cols;
// columns cols..w-1 are zero.
func packB(dst []float32, w int, transB bool, b []float32, ldb, p0, j0, kc, cols int) {
	dst = dst[:kc*w]
	if transB {
		// op(B)(p, j) = b[j*ldb + p]: the sliver is the transpose of a
		// cols×kc block of B. Whole 8×8 blocks go through an AVX
		// transpose (about 10× faster than the scalar scatter below);
		// the k remainder and partial widths are scattered one by one.
		p8 := 0
		if hasCopyAsm && cols == w && w%8 == 0 && kc >= 8 {
			p8 = kc &^ 7
			_ = b[(j0+cols-1)*ldb+p0+p8-1] // bounds, once
			for jb := 0; jb < cols; jb += 8 {
				for pb := 0; pb < p8; pb += 8 {
					transpose8(&dst[pb*w+jb], w, &b[(j0+jb)*ldb+p0+pb], ldb)
				}
			}
		}
		for j := 0; j < cols; j++ {
			src := b[(j0+j)*ldb+p0+p8:]
			src = src[:kc-p8]
			for p, v := range src {
				dst[(p8+p)*w+j] = v
			}
		}
	} else {
		switch {
		case cols == w && (w == 16 || w == 8) && hasCopyAsm && kc > 0:
			// Whole slivers, the common case, in assembly: two 32-byte
			// loads and stores per row. (In Go a 64-byte array copy goes
			// through a stack temporary, about 45 instructions a row, and
			// copy() calls memmove for every row.)
			_ = b[(p0+kc-1)*ldb+j0+w-1] // bounds, once
			if w == 16 {
				copyRows16(&dst[0], &b[p0*ldb+j0], ldb, kc)
			} else {
				copyRows8(&dst[0], &b[p0*ldb+j0], ldb, kc)
			}
		case cols == 16 && w == 16:
			for p := 0; p < kc; p++ {
				v := *(*[16]float32)(b[(p0+p)*ldb+j0:])
				*(*[16]float32)(dst[p*16 : p*16+16]) = v
			}
		default:
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+j0:]
				copy(dst[p*w:p*w+cols], src[:cols])
			}
		}
	}
	if cols < w {
		for p := 0; p < kc; p++ {
			clear(dst[p*w+cols : p*w+w])
		}
	}
}
