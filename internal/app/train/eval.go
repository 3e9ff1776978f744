package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/eval"
	"github.com/mhmstream/mhm/pkg/plot"
)

// EvalVerb is `train eval`.
func EvalVerb() cli.Verb {
	return cli.Verb{Name: "eval", Summary: "measure how well a model separates normal from anomalous recordings (AUC, pAUC, F1)", Run: runEval}
}

const evalHelp = `Scores labelled recordings with a model (as 'train score' does) and reports:

  ROC AUC    the Mann-Whitney AUC, anomalous as the positive class;
  pAUC       the partial AUC for false-positive rates <= 0.1, DCASE's definition:
             the raw area under the ROC curve from FPR 0 to 0.1 divided by 0.1
             (1 = perfect, 0.05 = chance). It is NOT sklearn's
             roc_auc_score(max_fpr=0.1), the McClish-standardised value (chance
             0.5), which is printed beside it for comparison;
  precision, recall and F1 of "score > threshold" at the model's learned threshold;
  the rank of each anomalous item among all items (1 = highest score).

Labels come from the file names (normal_*, anomaly_* as DCASE names them, or a
normal/ or abnormal/ folder) or from --labels FILE.csv (rows: file,label with
label normal/anomaly or 0/1; the file is matched by path, then base name).
With --per-file, each anomalous file also gets its own AUC against all normal
items (e.g. one per seeded fault). --plots DIR writes roc.png and hist.png.

Example:
  train eval --model fan-00.mhm --plots out/ data/dcase/test/
  train eval --model cwru.mhm --labels cwru.csv --per-file normal_0_97.mat@0.8:1 48k_*.mat`

// evalJSON is the output of `eval --json`.
type evalJSON struct {
	Model     string         `json:"model"`
	Kind      string         `json:"kind"`
	Report    eval.Report    `json:"report"`
	PAUCDef   string         `json:"pauc_definition"`
	McClish   float64        `json:"pauc_mcclish"`
	Items     []evalItemJSON `json:"items"`
	PerFile   []fileAUC      `json:"per_file,omitempty"`
	Anomalies []rankJSON     `json:"anomaly_ranks"`
}

type evalItemJSON struct {
	itemJSON
	Label int `json:"label"`
}

type fileAUC struct {
	File     string  `json:"file"`
	Items    int     `json:"items"`
	AUC      float64 `json:"auc"`
	PAUC     float64 `json:"pauc"`
	Flagged  int     `json:"flagged"` // items above the threshold
	MeanRank float64 `json:"-"`
}

type rankJSON struct {
	Item  string  `json:"item"`
	Score float64 `json:"score"`
	Rank  int     `json:"rank"` // 1 = highest score of all items
	Of    int     `json:"of"`
}

const paucDef = "DCASE 2020: (1/p) * integral of TPR dFPR over FPR in [0, p], p = 0.1 (raw partial area / p; chance 0.05, perfect 1)"

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("train eval", "train eval --model MODEL [--json] [--plots DIR] [--labels FILE.csv] [--per-file] PATHS...", evalHelp, stderr)
	path := fs.String("model", "", "model artifact (required)")
	asJSON := fs.Bool("json", false, "write one JSON document instead of text")
	plots := fs.String("plots", "", "folder to write roc.png and hist.png into (created if missing)")
	labelsPath := fs.String("labels", "", "CSV of file,label rows; default: labels from the file names")
	perFile := fs.Bool("per-file", false, "also report each anomalous file's AUC against all normal items")
	in := addInputFlags(fs, "; default: as the model was trained")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var labels eval.Labels
	if *labelsPath != "" {
		f, err := os.Open(*labelsPath)
		if err != nil {
			return err
		}
		labels, err = eval.ReadLabels(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *labelsPath, err)
		}
	}
	l, items, err := loadAndRead(ctx, *path, in, fs.Args())
	if err != nil {
		return err
	}
	lab := make([]int, len(items))
	for i, it := range items {
		var ok bool
		if labels != nil {
			lab[i], ok = labels.Lookup(it.Source.Path)
			if !ok {
				return fmt.Errorf("%s: not in %s", it.Source.Path, *labelsPath)
			}
		} else if lab[i], ok = eval.LabelFromName(it.Source.Path); !ok {
			return fmt.Errorf("%s: no label: the name says neither normal nor anomaly; give --labels FILE.csv", it.Source.Path)
		}
	}
	eng := newEngine(l)
	th := l.Meta.Threshold.Value
	scores := make([]float64, len(items))
	out := evalJSON{Model: l.Meta.Version, Kind: l.Meta.Kind, PAUCDef: paucDef}
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := eng.score(it, 0, it.N)
		scores[i] = r.Score
		out.Items = append(out.Items, evalItemJSON{itemOut(it, r, th), lab[i]})
	}
	rep, err := eval.Evaluate(lab, scores, th, eval.DefaultMaxFPR)
	if err != nil {
		return fmt.Errorf("%w (labels: %d anomalous of %d)", err, count(lab, eval.Anomaly), len(lab))
	}
	out.Report, out.McClish = rep, eval.McClish(rep.PAUC, rep.MaxFPR)
	out.Anomalies = ranks(items, lab, scores)
	if *perFile {
		out.PerFile = perFileAUC(items, lab, scores, th)
	}
	if *plots != "" {
		if err := evalPlots(*plots, l.Meta.Version, lab, scores, th, rep); err != nil {
			return err
		}
	}
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(out)
	}
	c := rep.Confusion
	fmt.Fprintf(stdout, "model %s (%s), %d items: %d normal, %d anomalous\n", l.Meta.Version, l.Meta.Kind, rep.N, rep.N-rep.Anomalous, rep.Anomalous)
	fmt.Fprintf(stdout, "ROC AUC            %.4f\n", rep.AUC)
	fmt.Fprintf(stdout, "pAUC (FPR <= %.2g)  %.4f   DCASE definition: raw area for FPR <= %.2g divided by %.2g (chance %.3g); sklearn's McClish value would be %.4f\n",
		rep.MaxFPR, rep.PAUC, rep.MaxFPR, rep.MaxFPR, rep.MaxFPR/2, out.McClish)
	fmt.Fprintf(stdout, "at the threshold %.6g (%s): precision %.4f, recall %.4f, F1 %.4f (TP %d, FP %d, TN %d, FN %d)\n",
		th, l.Meta.Threshold.Method, rep.Precision, rep.Recall, rep.F1, c.TP, c.FP, c.TN, c.FN)
	if len(out.Anomalies) <= 20 {
		for _, a := range out.Anomalies {
			fmt.Fprintf(stdout, "anomaly %s: score %.6g, rank %d of %d\n", a.Item, a.Score, a.Rank, a.Of)
		}
	}
	if len(out.PerFile) > 0 {
		fmt.Fprintf(stdout, "\n| anomalous file | items | AUC | pAUC | above threshold |\n|---|---|---|---|---|\n")
		for _, p := range out.PerFile {
			fmt.Fprintf(stdout, "| %s | %d | %.4f | %.4f | %d/%d |\n", filepath.Base(p.File), p.Items, p.AUC, p.PAUC, p.Flagged, p.Items)
		}
	}
	if *plots != "" {
		fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*plots, "roc.png"), filepath.Join(*plots, "hist.png"))
	}
	return nil
}

func count(x []int, v int) int {
	n := 0
	for _, y := range x {
		if y == v {
			n++
		}
	}
	return n
}

// ranks returns each anomalous item's rank among all items by score,
// highest first (ties share the best rank).
func ranks(items []*item, lab []int, scores []float64) []rankJSON {
	var out []rankJSON
	for i, it := range items {
		if lab[i] != eval.Anomaly {
			continue
		}
		r := 1
		for _, s := range scores {
			if s > scores[i] {
				r++
			}
		}
		out = append(out, rankJSON{Item: it.Name(), Score: scores[i], Rank: r, Of: len(scores)})
	}
	return out
}

// perFileAUC computes, for every file holding anomalous items, the AUC of
// its items against all normal items.
func perFileAUC(items []*item, lab []int, scores []float64, th float64) []fileAUC {
	var normal []float64
	for i := range items {
		if lab[i] == eval.Normal {
			normal = append(normal, scores[i])
		}
	}
	var order []string
	byFile := map[string][]float64{}
	for i, it := range items {
		if lab[i] != eval.Anomaly {
			continue
		}
		if _, ok := byFile[it.Source.Path]; !ok {
			order = append(order, it.Source.Path)
		}
		byFile[it.Source.Path] = append(byFile[it.Source.Path], scores[i])
	}
	var out []fileAUC
	for _, f := range order {
		a := byFile[f]
		l := make([]int, 0, len(normal)+len(a))
		s := make([]float64, 0, len(normal)+len(a))
		for _, v := range normal {
			l, s = append(l, eval.Normal), append(s, v)
		}
		flagged := 0
		for _, v := range a {
			l, s = append(l, eval.Anomaly), append(s, v)
			if v > th {
				flagged++
			}
		}
		auc, err1 := eval.AUC(l, s)
		pauc, err2 := eval.PartialAUC(l, s, eval.DefaultMaxFPR)
		if err1 != nil || err2 != nil {
			auc, pauc = math.NaN(), math.NaN()
		}
		out = append(out, fileAUC{File: f, Items: len(a), AUC: auc, PAUC: pauc, Flagged: flagged})
	}
	return out
}

func evalPlots(dir, name string, lab []int, scores []float64, th float64, rep eval.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	curve, err := eval.ROC(lab, scores)
	if err != nil {
		return err
	}
	roc, err := plot.ROC([]plot.ROCCurve{{Label: name, FPR: curve.FPR, TPR: curve.TPR, AUC: rep.AUC, PAUC: rep.PAUC, MaxFPR: rep.MaxFPR}}, plot.Options{})
	if err != nil {
		return err
	}
	if err := roc.SavePNG(filepath.Join(dir, "roc.png")); err != nil {
		return err
	}
	var hd plot.HistogramData
	hd.Threshold = th
	for i, s := range scores {
		if lab[i] == eval.Anomaly {
			hd.Anomalous = append(hd.Anomalous, s)
		} else {
			hd.Normal = append(hd.Normal, s)
		}
	}
	sort.Float64s(hd.Normal)
	h, err := plot.Histogram(hd, plot.Options{Title: "Scores of " + name})
	if err != nil {
		return err
	}
	return h.SavePNG(filepath.Join(dir, "hist.png"))
}
