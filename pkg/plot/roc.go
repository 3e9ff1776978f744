package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// ROCCurve is one curve of a ROC figure, e.g. from eval.ROC.
type ROCCurve struct {
	// Label names the curve in the legend (e.g. the model); "" for none.
	Label string
	// FPR and TPR are the curve's points, in order (same length ≥ 2,
	// values in [0, 1]).
	FPR, TPR []float64
	// AUC is shown in the legend; NaN leaves it out.
	AUC float64
	// PAUC is the partial AUC for FPR ≤ MaxFPR, shown when MaxFPR > 0;
	// the region FPR ≤ MaxFPR is then shaded.
	PAUC, MaxFPR float64
}

// ROC draws ROC curves with the chance diagonal. The legend gives each
// curve's AUC (and pAUC); with one curve the default title carries them
// too. Default size 640 × 600 px, title "ROC curve".
func ROC(curves []ROCCurve, opt Options) (*Figure, error) {
	w, h, err := opt.size(640, 600)
	if err != nil {
		return nil, err
	}
	if len(curves) == 0 {
		return nil, fmt.Errorf("%w: no ROC curve", ErrData)
	}
	title := "ROC curve"
	for i, c := range curves {
		if len(c.FPR) != len(c.TPR) || len(c.FPR) < 2 {
			return nil, fmt.Errorf("%w: curve %d has %d FPR and %d TPR points", ErrData, i, len(c.FPR), len(c.TPR))
		}
		for j := range c.FPR {
			if !(c.FPR[j] >= 0 && c.FPR[j] <= 1 && c.TPR[j] >= 0 && c.TPR[j] <= 1) {
				return nil, fmt.Errorf("%w: curve %d point %d (%v, %v) outside [0, 1]²", ErrData, i, j, c.FPR[j], c.TPR[j])
			}
		}
	}
	if len(curves) == 1 && !math.IsNaN(curves[0].AUC) {
		title = "ROC curve: " + rocSummary(curves[0])
	}
	p := newPlot(opt.title(title), "false-positive rate", "true-positive rate")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -8, 8

	var shaded bool
	for _, c := range curves {
		if c.MaxFPR > 0 && c.MaxFPR < 1 && !shaded {
			s := &spans{X0: []float64{0}, X1: []float64{c.MaxFPR}, Color: colShade}
			p.Add(s)
			p.Legend.Add(fmt.Sprintf("FPR ≤ %g (pAUC region)", c.MaxFPR), s)
			shaded = true
		}
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.LineStyle = line(colChance, 1, true)
	p.Add(diag)
	for i, c := range curves {
		xy := make(plotter.XYs, len(c.FPR))
		for j := range xy {
			xy[j] = plotter.XY{X: c.FPR[j], Y: c.TPR[j]}
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("%w: curve %d: %w", ErrData, i, err)
		}
		l.LineStyle = line(curveColours[i%len(curveColours)], 2, false)
		p.Add(l)
		name := c.Label
		if s := rocSummary(c); s != "" {
			if name != "" {
				name += ": "
			}
			name += s
		}
		if name != "" {
			p.Legend.Add(name, l)
		}
	}
	p.Legend.Add("chance (AUC 0.5)", diag)
	return &Figure{width: w, height: h, draw: func(c draw.Canvas) { p.Draw(c) }, main: p}, nil
}

func rocSummary(c ROCCurve) string {
	var s string
	if !math.IsNaN(c.AUC) {
		s = fmt.Sprintf("AUC %.3f", c.AUC)
	}
	if c.MaxFPR > 0 && !math.IsNaN(c.PAUC) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("pAUC(FPR≤%g) %.3f", c.MaxFPR, c.PAUC)
	}
	return s
}

var _ gplot.Thumbnailer = (*spans)(nil)
