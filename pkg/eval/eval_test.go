package eval

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// split builds labels and scores from normal and anomalous scores.
func split(normal, anomalous []float64) ([]int, []float64) {
	var l []int
	var s []float64
	for _, v := range normal {
		l, s = append(l, Normal), append(s, v)
	}
	for _, v := range anomalous {
		l, s = append(l, Anomaly), append(s, v)
	}
	return l, s
}

// Hand-worked cases. For each: the AUC by counting pairs, the ROC points,
// and the raw area from FPR 0 to p divided by p.
func TestHandCases(t *testing.T) {
	type pa struct{ p, want float64 }
	for _, c := range []struct {
		name              string
		normal, anomalous []float64
		auc               float64
		fpr, tpr          []float64
		pauc              []pa
	}{
		{
			// Pairs: 0.35 beats 0.1, 0.2, 0.3 and loses to 0.4 (3); 0.5 beats
			// all four (4). U = 7 of 8 pairs: AUC = 0.875.
			// ROC, descending: 0.5 A → (0, .5); 0.4 N → (.25, .5);
			// 0.35 A → (.25, 1); then (.5, 1), (.75, 1), (1, 1).
			// p = 0.1: TPR = 0.5 on [0, .25): area 0.05 → 0.5.
			// p = 0.25: area 0.125 (the jump at .25 has no width) → 0.5.
			// p = 0.3: 0.125 + 0.05·1 = 0.175 → 0.175/0.3.
			name:      "no ties",
			normal:    []float64{0.1, 0.2, 0.3, 0.4},
			anomalous: []float64{0.35, 0.5},
			auc:       0.875,
			fpr:       []float64{0, 0, 0.25, 0.25, 0.5, 0.75, 1},
			tpr:       []float64{0, 0.5, 0.5, 1, 1, 1, 1},
			pauc:      []pa{{0.1, 0.5}, {0.25, 0.5}, {0.3, 0.175 / 0.3}, {1, 0.875}},
		},
		{
			// Ties. Normal {1, 2, 2, 3}, anomalous {2, 3, 4}.
			// a=2: beats 1, ties 2 and 2 (½ each), loses to 3: 2.
			// a=3: beats 1, 2, 2, ties 3: 3.5.  a=4: beats all: 4.
			// U = 9.5 of 12: AUC = 9.5/12.
			// ROC by distinct threshold: ≥4 → (0, 1/3); ≥3 → (1/4, 2/3);
			// ≥2 → (3/4, 1); ≥1 → (1, 1). Trapezoids: .25·(1/3+2/3)/2 = .125,
			// .5·(2/3+1)/2 = 5/12, .25·1 = .25; total 9.5/12 as the pair count.
			// p = 0.1 falls inside the tie segment (0, 1/3)–(1/4, 2/3):
			// TPR(0.1) = 1/3 + (0.1/0.25)·(1/3) = 7/15; area 0.1·(1/3+7/15)/2 =
			// 0.04 → pAUC 0.4. p = 0.5: .125 + .25·(2/3 + 5/6)/2 = .3125 → .625.
			name:      "ties",
			normal:    []float64{1, 2, 2, 3},
			anomalous: []float64{2, 3, 4},
			auc:       9.5 / 12,
			fpr:       []float64{0, 0, 0.25, 0.75, 1},
			tpr:       []float64{0, 1.0 / 3, 2.0 / 3, 1, 1},
			pauc:      []pa{{0.1, 0.4}, {0.25, 0.5}, {0.5, 0.625}},
		},
		{
			// All scores equal: one diagonal segment (0,0)–(1,1). AUC ½;
			// area to p is p²/2, so pAUC = p/2 (DCASE's chance level).
			name:      "all tied",
			normal:    []float64{3, 3, 3},
			anomalous: []float64{3, 3},
			auc:       0.5,
			fpr:       []float64{0, 1},
			tpr:       []float64{0, 1},
			pauc:      []pa{{0.1, 0.05}, {0.5, 0.25}},
		},
		{
			name:      "perfect",
			normal:    []float64{0, 1, 2},
			anomalous: []float64{5, 6},
			auc:       1,
			fpr:       []float64{0, 0, 0, 1.0 / 3, 2.0 / 3, 1},
			tpr:       []float64{0, 0.5, 1, 1, 1, 1},
			pauc:      []pa{{0.1, 1}, {0.5, 1}},
		},
		{
			name:      "reversed",
			normal:    []float64{5, 6},
			anomalous: []float64{0, 1},
			auc:       0,
			fpr:       []float64{0, 0.5, 1, 1, 1},
			tpr:       []float64{0, 0, 0, 0.5, 1},
			pauc:      []pa{{0.1, 0}, {1, 0}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, s := split(c.normal, c.anomalous)
			auc, err := AUC(l, s)
			if err != nil || !near(auc, c.auc, 1e-15) {
				t.Errorf("AUC %v (%v), want %v", auc, err, c.auc)
			}
			roc, err := ROC(l, s)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(roc.FPR, c.fpr, func(a, b float64) bool { return near(a, b, 1e-15) }) ||
				!slices.EqualFunc(roc.TPR, c.tpr, func(a, b float64) bool { return near(a, b, 1e-15) }) {
				t.Errorf("ROC fpr %v tpr %v, want %v %v", roc.FPR, roc.TPR, c.fpr, c.tpr)
			}
			if a := roc.Area(1); !near(a, c.auc, 1e-15) {
				t.Errorf("trapezoid area %v, want %v", a, c.auc)
			}
			for _, q := range c.pauc {
				got, err := PartialAUC(l, s, q.p)
				if err != nil || !near(got, q.want, 1e-15) {
					t.Errorf("pAUC(p=%v) = %v (%v), want %v", q.p, got, err, q.want)
				}
			}
		})
	}
}

func TestMcClish(t *testing.T) {
	// "no ties" case at p = 0.1: raw area 0.05; min p²/2 = 0.005, max 0.1:
	// ½(1 + 0.045/0.095) = 0.7368421052631579.
	if got := McClish(0.5, 0.1); !near(got, 0.5*(1+0.045/0.095), 1e-15) {
		t.Errorf("McClish %v", got)
	}
	if got := McClish(0.05, 0.1); !near(got, 0.5, 1e-15) { // chance level → ½
		t.Errorf("chance %v", got)
	}
	if got := McClish(1, 0.1); !near(got, 1, 1e-15) {
		t.Errorf("perfect %v", got)
	}
}

type goldenCase struct {
	Name      string
	Labels    []int
	Scores    []float64
	AUC       float64
	MaxFPR    []float64 `json:"max_fpr"`
	Area      []float64
	McClish   []float64
	Threshold float64
	Precision float64
	Recall    float64
	F1        float64
}

// TestGolden compares with scikit-learn 1.2.1 (testdata/gen/eval_golden.py):
// roc_auc_score, its unstandardised partial area, roc_auc_score(max_fpr)
// through McClish, and precision/recall/F1 at a threshold; within 1e-12.
func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/eval_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Cases []goldenCase }
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 5 {
		t.Fatalf("%d golden cases", len(g.Cases))
	}
	const tol = 1e-12
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			auc, err := AUC(c.Labels, c.Scores)
			if err != nil || !near(auc, c.AUC, tol) {
				t.Errorf("AUC %v (%v), sklearn %v", auc, err, c.AUC)
			}
			for i, p := range c.MaxFPR {
				pauc, err := PartialAUC(c.Labels, c.Scores, p)
				if err != nil || !near(pauc*p, c.Area[i], tol) {
					t.Errorf("p=%v: area %v (%v), sklearn %v", p, pauc*p, err, c.Area[i])
				}
				if p < 1 && !near(McClish(pauc, p), c.McClish[i], tol) {
					t.Errorf("p=%v: McClish %v, sklearn %v", p, McClish(pauc, p), c.McClish[i])
				}
			}
			r, err := Evaluate(c.Labels, c.Scores, c.Threshold, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !near(r.Precision, c.Precision, tol) || !near(r.Recall, c.Recall, tol) || !near(r.F1, c.F1, tol) {
				t.Errorf("P/R/F1 %v %v %v, sklearn %v %v %v", r.Precision, r.Recall, r.F1, c.Precision, c.Recall, c.F1)
			}
			if r.MaxFPR != DefaultMaxFPR || r.N != len(c.Labels) {
				t.Errorf("report %+v", r)
			}
		})
	}
}

// AUC by ranks equals the trapezoidal area of the ROC and a brute-force
// pair count, on random data with many ties.
func TestAUCThreeWays(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 100 {
		n := 2 + r.IntN(60)
		l := make([]int, n)
		s := make([]float64, n)
		for i := range n {
			l[i] = r.IntN(2)
			s[i] = float64(r.IntN(10))
		}
		l[0], l[1] = Normal, Anomaly
		var u float64
		var pairs int
		for i := range n {
			for j := range n {
				if l[i] == Anomaly && l[j] == Normal {
					pairs++
					switch {
					case s[i] > s[j]:
						u++
					case s[i] == s[j]:
						u += 0.5
					}
				}
			}
		}
		auc, _ := AUC(l, s)
		roc, _ := ROC(l, s)
		if !near(auc, u/float64(pairs), 1e-12) || !near(roc.Area(1), auc, 1e-12) {
			t.Fatalf("AUC %v, pairs %v, trapezoid %v", auc, u/float64(pairs), roc.Area(1))
		}
		// pAUC is monotone in the sense area(p) ≤ p, and pAUC(1) = AUC.
		for _, p := range []float64{0.01, 0.1, 0.3} {
			pa, _ := PartialAUC(l, s, p)
			if pa < 0 || pa > 1+1e-12 {
				t.Fatalf("pAUC(%v) = %v", p, pa)
			}
		}
	}
}

func TestConfusion(t *testing.T) {
	l := []int{0, 0, 0, 0, 1, 1, 1}
	s := []float64{0.1, 0.5, 0.9, 0.5, 0.4, 0.6, 0.95}
	c := ConfusionAt(l, s, 0.5) // strictly above 0.5: 0.9 (N), 0.6, 0.95 (A)
	if c != (Confusion{TP: 2, FP: 1, TN: 3, FN: 1}) {
		t.Fatalf("confusion %+v", c)
	}
	// precision 2/3, recall 2/3, F1 2/3, FPR 1/4, accuracy 5/7
	if !near(c.Precision(), 2.0/3, 1e-15) || !near(c.Recall(), 2.0/3, 1e-15) ||
		!near(c.F1(), 2.0/3, 1e-15) || c.FPR() != 0.25 || !near(c.Accuracy(), 5.0/7, 1e-15) {
		t.Errorf("metrics %v %v %v %v %v", c.Precision(), c.Recall(), c.F1(), c.FPR(), c.Accuracy())
	}
	none := ConfusionAt(l, s, 10)
	if none.Precision() != 0 || none.F1() != 0 || none.Recall() != 0 {
		t.Errorf("nothing flagged: %+v", none)
	}
}

func TestErrors(t *testing.T) {
	if _, err := AUC([]int{0, 0}, []float64{1, 2}); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: %v", err)
	}
	if _, err := AUC([]int{0, 2}, []float64{1, 2}); !errors.Is(err, ErrLabel) {
		t.Errorf("bad label: %v", err)
	}
	if _, err := ROC([]int{0, 1}, []float64{1, math.NaN()}); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN: %v", err)
	}
	if _, err := PartialAUC([]int{0, 1}, []float64{1, 2}, 0); !errors.Is(err, ErrParam) {
		t.Errorf("p=0: %v", err)
	}
	if _, err := Evaluate([]int{1, 1}, []float64{1, 2}, 0, 0); !errors.Is(err, ErrOneClass) {
		t.Errorf("Evaluate one class: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("length mismatch did not panic")
		}
	}()
	AUC([]int{0, 1}, []float64{1})
}

func TestLabelFromName(t *testing.T) {
	for _, c := range []struct {
		path  string
		label int
		ok    bool
	}{
		{"normal_id_00_00000000.wav", Normal, true},
		{"anomaly_id_00_00000000.wav", Anomaly, true},
		{"/data/dcase/id_00/ANOMALY_id_00_00000012.WAV", Anomaly, true},
		{"section_00_source_test_anomaly_0001.wav", Anomaly, true},
		{"section_00_target_test_normal_0042_noAttribute.wav", Normal, true},
		{"mimii/fan/id_00/abnormal/00000000.wav", Anomaly, true},
		{"mimii/fan/id_00/normal/00000000.wav", Normal, true},
		{`C:\data\normal\x.wav`, Normal, true},
		{"abnormality_check.wav", 0, false}, // a word, not the token
		{"normal_vs_anomaly.wav", 0, false}, // both: ambiguous
		{"acc_00001.csv", 0, false},
		{"", 0, false},
		{"normalised/anomaly_1.wav", Anomaly, true}, // the base name decides
	} {
		l, ok := LabelFromName(c.path)
		if ok != c.ok || (ok && l != c.label) {
			t.Errorf("LabelFromName(%q) = %d, %v; want %d, %v", c.path, l, ok, c.label, c.ok)
		}
	}
}

func TestReadLabels(t *testing.T) {
	in := `file,label
# a comment
a/normal_x.wav,0
 b.wav , anomaly
dir\c.wav,1
d.wav,Normal
d.wav,0
`
	l, err := ReadLabels(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Labels{"a/normal_x.wav": 0, "b.wav": 1, "dir/c.wav": 1, "d.wav": 0}
	if len(l) != len(want) {
		t.Fatalf("got %v", l)
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s: %d, want %d", k, l[k], v)
		}
	}
	for _, c := range []struct {
		path string
		want int
		ok   bool
	}{{"b.wav", 1, true}, {"./a/normal_x.wav", 0, true}, {"/elsewhere/b.wav", 1, true}, {"e.wav", 0, false}} {
		if v, ok := l.Lookup(c.path); ok != c.ok || v != c.want {
			t.Errorf("Lookup(%q) = %d %v", c.path, v, ok)
		}
	}
	for _, bad := range []string{
		"a.wav,0\nb.wav,maybe\n",      // bad label after the first row (line 2)
		"a.wav,0\na.wav,1\n",          // conflicting duplicate
		"a.wav,0\nb.wav\n",            // one field
		"a.wav,0\n\"unterminated,1\n", // CSV syntax
		",1\n",                        // empty name
	} {
		_, err := ReadLabels(strings.NewReader(bad))
		if !errors.Is(err, ErrLabelFile) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
	if _, err := ReadLabels(strings.NewReader("a.wav,0\nb.wav,maybe\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error without line number: %v", err)
	}
}

// FuzzReadLabels: whatever reads without error writes back (every field
// quoted) and reads again to the same labels.
func FuzzReadLabels(f *testing.F) {
	f.Add("file,label\na.wav,0\nb/c.wav,anomaly\n")
	f.Add("# c\n x.wav , 1\n\"q,\"\"uoted\".wav,normal\n")
	f.Add("a\\b.wav,1\n")
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ReadLabels(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrLabelFile) {
				t.Fatalf("error %v does not wrap ErrLabelFile", err)
			}
			return
		}
		var sb strings.Builder
		for name, v := range l {
			if strings.ContainsRune(name, '\r') {
				return // CSV turns \r\n inside quotes into \n
			}
			sb.WriteString(`"` + strings.ReplaceAll(name, `"`, `""`) + `",` + []string{"0", "1"}[v] + "\n")
		}
		back, err := ReadLabels(strings.NewReader(sb.String()))
		if err != nil {
			t.Fatalf("re-reading %q: %v", sb.String(), err)
		}
		if len(back) != len(l) {
			t.Fatalf("%v became %v", l, back)
		}
		for k, v := range l {
			if back[k] != v {
				t.Fatalf("%q: %d became %d", k, v, back[k])
			}
		}
	})
}
