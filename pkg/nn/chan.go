package nn

import "github.com/mhmstream/mhm/pkg/nn/internal/vec"

// Per-channel elementwise passes of BatchNorm and the fused
// Dense+BatchNorm+ReLU block. A batch is N examples of C channels of S
// positions each, channel-major within an example (x[(i*C+c)*S+s]): S = 1
// is a dense N×C matrix (BatchNorm1d on features), S > 1 a convolutional
// map. Sums are accumulated in float64; the elementwise outputs are float32
// with float32 per-channel coefficients.

// chanSums adds Σx and Σx² over every value of each channel into s1, s2.
func chanSums(s1, s2 []float64, x []float32, N, C, S int) {
	if S == 1 {
		vec.ColSums(s1, s2, x, N, C)
		return
	}
	for i := 0; i < N; i++ {
		for c := 0; c < C; c++ {
			var a1, a2 float64
			for _, v := range x[(i*C+c)*S : (i*C+c+1)*S] {
				f := float64(v)
				a1 += f
				a2 += f * f
			}
			s1[c] += a1
			s2[c] += a2
		}
	}
}

// chanAffine writes y = (x − mu)·sc + sh per channel, clamped at 0 when relu
// (NaN propagates). y may be x.
func chanAffine(y, x []float32, N, C, S int, mu, sc, sh []float32, relu bool) {
	if S == 1 {
		vec.AffineRows(y, x, N, C, mu, sc, sh, relu)
		return
	}
	for i := 0; i < N; i++ {
		for c := 0; c < C; c++ {
			o := (i*C + c) * S
			m, k, h := mu[c], sc[c], sh[c]
			xs, ys := x[o:o+S], y[o:o+S]
			if relu {
				for j, v := range xs {
					ys[j] = relu32((v-m)*k + h)
				}
			} else {
				for j, v := range xs {
					ys[j] = (v-m)*k + h
				}
			}
		}
	}
}

// relu32 is max(v, 0): NaN stays NaN.
func relu32(v float32) float32 { return max(v, 0) }

// chanGradSums adds Σg and Σg·x over every value of each channel into sg
// and sgx, with g = dy, or g = dy masked by mask > 0 when mask is not nil
// (the gradient through a ReLU whose output is mask); then g is also
// written to gout.
func chanGradSums(sg, sgx []float64, gout, dy, mask, x []float32, N, C, S int) {
	n := N * C * S
	dy, x = dy[:n], x[:n]
	if S == 1 {
		if mask != nil {
			vec.ColDotSumsMasked(sg, sgx, gout, dy, mask, x, N, C) // mask and sums in one pass
		} else {
			vec.ColDotSums(sg, sgx, dy, x, N, C)
		}
		return
	}
	if mask != nil {
		vec.ReLUMask(gout[:n], dy, mask[:n])
		dy = gout[:n]
	}
	for i := 0; i < N; i++ {
		for c := 0; c < C; c++ {
			o := (i*C + c) * S
			var a1, a2 float64
			xs := x[o : o+S]
			for j, g := range dy[o : o+S] {
				f := float64(g)
				a1 += f
				a2 += f * float64(xs[j])
			}
			sg[c] += a1
			sgx[c] += a2
		}
	}
}

// chanGradOut writes dx = k·g + p·(x − mu) + q per channel. dx may be g.
func chanGradOut(dx, g, x []float32, N, C, S int, k, p, mu, q []float32) {
	if S == 1 {
		vec.GradRows(dx, g, x, N, C, k, p, mu, q)
		return
	}
	for i := 0; i < N; i++ {
		for c := 0; c < C; c++ {
			o := (i*C + c) * S
			kc, pc, mc, qc := k[c], p[c], mu[c], q[c]
			xs, ds := x[o:o+S], dx[o:o+S]
			for j, v := range g[o : o+S] {
				ds[j] = kc*v + pc*(xs[j]-mc) + qc
			}
		}
	}
}

// reluMask writes dx = dy where y > 0, else 0 (also where y is NaN or −0):
// the gradient through a ReLU whose output is y. dx may be dy.
func reluMask(dx, dy, y []float32) { vec.ReLUMask(dx, dy, y) }
