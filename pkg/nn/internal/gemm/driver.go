package gemm

import "sync"

// problem is one call's arguments, shared read-only by its workers.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	bias           []float32 // nil, or len >= n
	act            Activation
}

// workspace holds one goroutine's packing buffers. Workspaces are kept on a
// free list and reused, so a call allocates only when more goroutines run
// products at once than ever before.
type workspace struct {
	a, b []float32
	tile []float32 // one tile of C for partial-width edges
}

var (
	wsMu   sync.Mutex
	wsFree []*workspace
)

func getWorkspace(ks *kernelSet) *workspace {
	wsMu.Lock()
	var ws *workspace
	if n := len(wsFree); n > 0 {
		ws = wsFree[n-1]
		wsFree[n-1] = nil
		wsFree = wsFree[:n-1]
	}
	wsMu.Unlock()
	if ws == nil {
		ws = new(workspace)
	}
	ws.fit(ks)
	return ws
}

func putWorkspace(ws *workspace) {
	wsMu.Lock()
	wsFree = append(wsFree, ws)
	wsMu.Unlock()
}

// fit grows the buffers to the kernel set's block sizes.
func (ws *workspace) fit(ks *kernelSet) {
	if n := ks.mc * ks.kc; len(ws.a) < n {
		ws.a = make([]float32, n)
	}
	if n := ks.kc * (ks.nc + ks.widths[0]); len(ws.b) < n {
		ws.b = make([]float32, n)
	}
	if n := ks.mr * ks.widths[0]; len(ws.tile) < n {
		ws.tile = make([]float32, n)
	}
}

// Packing thresholds (measured in docs/kernels.md). A transposed A is read
// in place (one contiguous run of mr values per k step, which the hardware
// prefetchers follow as well as a packed sliver) unless its leading
// dimension is a multiple of 4 KiB, where every k step would fall in the
// same L1 set, or packAMinSlivers slivers of B reuse it. A row-major B is
// packed when at least packBMinTiles row tiles reuse each of its slivers;
// fewer than that do not repay the copy.
//
// A*B^T with at most kernelSet.dotMaxM rows goes to the dot kernels
// instead: gathering B^T into slivers (8×8 AVX transposes, about 0.15 ns
// per element; a nanosecond in Go) costs more than the product when few
// rows reuse it.
//
// A dot product shorter than dotMinK spends more on its horizontal
// reduction and epilogue than on the FMAs, so with short k and enough rows
// to reuse it B^T is packed (a k×n panel with small k is cheap to gather):
// 64×128×8 (the DCASE code layer at batch 64) ran at 11 GFLOP/s with the
// dot kernels and 20 packed; with fewer rows than packing B needs, the dot
// kernels stay (1×128×8: 4.7 dot, 0.9 packed).
var (
	packAMinSlivers = 1 << 30
	packBMinTiles   = 4
	dotMinK         = 32
)

// run computes the block C[i0:i1, j0:j1] of the product with kernel set ks,
// in (nc, kc, mc) blocks. op(B) is packed per (kc, nc) panel when it is
// transposed or reused by enough row tiles, else read in place (except a
// partial-width edge sliver, always packed with zero padding); op(A) is
// read in place except in the cases given above packAMinSlivers. Beta is
// applied by the first k block, the bias and activation by the last.
func (ks *kernelSet) run(p *problem, ws *workspace, i0, i1, j0, j1 int) {
	if p.transB && !p.transA && p.m <= ks.dotMaxM && p.n >= 4 && (p.k >= dotMinK || p.m < packBMinTiles*ks.mr) {
		ks.runDot(p, ws, i0, i1, j0, j1)
		return
	}
	mr := ks.mr
	packAOp := p.transA && (ceilDiv(j1-j0, ks.widths[0]) >= packAMinSlivers || p.lda%1024 == 0)
	packBOp := p.transB || ceilDiv(i1-i0, mr) >= packBMinTiles
	relu := p.act == ReLU
	for jc := j0; jc < j1; jc += ks.nc {
		nc := min(ks.nc, j1-jc)
		for pc := 0; pc < p.k; pc += ks.kc {
			kc := min(ks.kc, p.k-pc)
			beta, flags := float32(1), 0
			if pc == 0 {
				beta = p.beta
				if beta == 0 {
					flags |= flagBetaZero
				}
			}
			last := pc+kc == p.k
			if last && relu {
				flags |= flagReLU
			}
			// Pack the B panel (or only its partial-width edge sliver).
			if packBOp {
				off := 0
				for jr := 0; jr < nc; {
					wi, _ := ks.width(nc - jr)
					w := ks.widths[wi]
					cols := min(w, nc-jr)
					packB(ws.b[off:], w, p.transB, p.b, p.ldb, pc, jc+jr, kc, cols)
					off += kc * w
					jr += cols
				}
			}
			for ic := i0; ic < i1; ic += ks.mc {
				mc := min(ks.mc, i1-ic)
				if packAOp {
					packA(ws.a, mr, p.transA, p.a, p.lda, ic, pc, mc, kc)
				}
				off := 0
				for jr := 0; jr < nc; {
					if ks.row != nil && p.m == 1 && !packBOp && !packAOp && nc-jr >= ks.rowWidth {
						// A one-row product, B in place: 64 columns per k step.
						// (Only for m == 1, so that a split never changes
						// which kernel computes an element of C.)
						ap, rsa, csa := &p.a[ic*p.lda+pc], p.lda, 1
						if p.transA {
							ap, rsa, csa = &p.a[pc*p.lda+ic], 1, p.lda
						}
						var bias *float32
						tf := flags
						if last && p.bias != nil {
							bias = &p.bias[jc+jr]
							tf |= flagBias
						}
						ks.row(kc, ap, rsa, csa, &p.b[pc*p.ldb+jc+jr], p.ldb, &p.c[ic*p.ldc+jc+jr], p.ldc, p.alpha, beta, bias, tf)
						jr += ks.rowWidth
						continue
					}
					wi, full := ks.width(nc - jr)
					w := ks.widths[wi]
					cols := min(w, nc-jr)
					var bp *float32
					rsb := w
					switch {
					case packBOp:
						bp = &ws.b[off]
						off += kc * w
					case full:
						bp = &p.b[pc*p.ldb+jc+jr]
						rsb = p.ldb
					default:
						packB(ws.b, w, false, p.b, p.ldb, pc, jc+jr, kc, cols)
						bp = &ws.b[0]
					}
					var bias *float32
					tf := flags
					if last && p.bias != nil {
						bias = &p.bias[jc+jr]
						tf |= flagBias
					}
					for ir := 0; ir < mc; ir += mr {
						rows := min(mr, mc-ir)
						var ap *float32
						var rsa, csa int
						switch {
						case packAOp:
							ap, rsa, csa = &ws.a[ir*kc], 1, mr
						case p.transA:
							ap, rsa, csa = &p.a[pc*p.lda+ic+ir], 1, p.lda
						default:
							ap, rsa, csa = &p.a[(ic+ir)*p.lda+pc], p.lda, 1
						}
						ci := (ic+ir)*p.ldc + jc + jr
						kern := ks.kernelFor(rows, wi)
						if full {
							kern(kc, ap, rsa, csa, bp, rsb, &p.c[ci], p.ldc, p.alpha, beta, bias, tf)
							continue
						}
						kern(kc, ap, rsa, csa, bp, rsb, &ws.tile[0], w, 1, 0, nil, flagBetaZero)
						edge(ws.tile, w, p.c[ci:], p.ldc, rows, cols, p.alpha, beta, tf, p.bias[min(len(p.bias), jc+jr):])
					}
					jr += cols
				}
			}
		}
	}
}

// runDot computes C[i0:i1, j0:j1] of A*B^T with the dot kernels. The last
// group of fewer than 4 columns is computed as the 4 columns ending at j1
// (p.n >= 4, so they exist) into the tile buffer, and only its new columns
// are stored.
func (ks *kernelSet) runDot(p *problem, ws *workspace, i0, i1, j0, j1 int) {
	flags := 0
	if p.beta == 0 {
		flags |= flagBetaZero
	}
	if p.act == ReLU {
		flags |= flagReLU
	}
	maxRows := len(ks.dot)
	for i := i0; i < i1; i += maxRows {
		rows := min(maxRows, i1-i)
		f := ks.dot[rows-1]
		ap := &p.a[i*p.lda]
		j := j0
		for ; j+4 <= j1; j += 4 {
			var bias *float32
			tf := flags
			if p.bias != nil {
				bias = &p.bias[j]
				tf |= flagBias
			}
			f(p.k, ap, p.lda, &p.b[j*p.ldb], p.ldb, &p.c[i*p.ldc+j], p.ldc, p.alpha, p.beta, bias, tf)
		}
		if j < j1 {
			jj := j1 - 4
			f(p.k, ap, p.lda, &p.b[jj*p.ldb], p.ldb, &ws.tile[0], 4, 1, 0, nil, flagBetaZero)
			edge(ws.tile[j-jj:], 4, p.c[i*p.ldc+j:], p.ldc, rows, j1-j, p.alpha, p.beta, flags|boolFlag(p.bias != nil, flagBias), p.bias[min(len(p.bias), j):])
		}
	}
}

func boolFlag(b bool, f int) int {
	if b {
		return f
	}
	return 0
}

// edge stores a partial tile t (rows×cols of stride ldt, holding the raw
// products S) into C with the kernel contract's epilogue.
func edge(t []float32, ldt int, c []float32, ldc, rows, cols int, alpha, beta float32, flags int, bias []float32) {
	for i := 0; i < rows; i++ {
		ti := t[i*ldt : i*ldt+cols]
		ci := c[i*ldc : i*ldc+cols]
		for j, s := range ti {
			v := alpha * s
			if flags&flagBetaZero == 0 {
				v += beta * ci[j]
			}
			if flags&flagBias != 0 {
				v += bias[j]
			}
			if flags&flagReLU != 0 && v < 0 {
				v = 0
			}
			ci[j] = v
		}
	}
}
