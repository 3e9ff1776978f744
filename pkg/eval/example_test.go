package eval_test

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/eval"
)

func ExampleEvaluate() {
	files := []string{
		"normal_id_00_00000000.wav", "normal_id_00_00000001.wav", "normal_id_00_00000002.wav",
		"normal_id_00_00000003.wav", "anomaly_id_00_00000000.wav", "anomaly_id_00_00000001.wav",
	}
	scores := []float64{0.1, 0.2, 0.3, 0.4, 0.35, 0.5}
	labels := make([]int, len(files))
	for i, f := range files {
		l, ok := eval.LabelFromName(f)
		if !ok {
			panic(f)
		}
		labels[i] = l
	}
	r, err := eval.Evaluate(labels, scores, 0.32, 0.1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("AUC %.3f  pAUC(FPR<=%.1f) %.3f (sklearn's McClish value %.3f)\n",
		r.AUC, r.MaxFPR, r.PAUC, eval.McClish(r.PAUC, r.MaxFPR))
	fmt.Printf("at %.2f: %+v precision %.3f recall %.3f F1 %.3f\n",
		r.Threshold, r.Confusion, r.Precision, r.Recall, r.F1)
	// Output:
	// AUC 0.875  pAUC(FPR<=0.1) 0.500 (sklearn's McClish value 0.737)
	// at 0.32: {TP:2 FP:1 TN:3 FN:0} precision 0.667 recall 1.000 F1 0.800
}
