package gemm_test

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
)

func ExampleSgemm() {
	// C (2×2) = A (2×3) · B (3×2), row-major.
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	c := make([]float32, 4)
	gemm.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	// C += A·A^T (2×2), reading A as stored.
	gemm.Sgemm(false, true, 2, 2, 3, 1, a, 3, a, 3, 1, c, 2)
	fmt.Println(c)
	// Output:
	// [4 5 10 11]
	// [18 37 42 88]
}

func ExampleSgemmBias() {
	// A dense layer's forward pass Y = relu(X·W + b) for a batch of two
	// 3-vectors and 2 outputs, in one call.
	x := []float32{
		1, 2, 3,
		-1, -2, -3,
	}
	w := []float32{
		1, -1,
		1, -1,
		1, -1,
	}
	bias := []float32{0.5, 0.5}
	y := make([]float32, 4)
	gemm.SgemmBias(false, false, 2, 2, 3, 1, x, 3, w, 2, 0, y, 2, bias, gemm.ReLU)
	fmt.Println(y)
	// Output:
	// [6.5 0 0 6.5]
}
