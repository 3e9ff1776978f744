package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// InspectVerb is `train inspect`.
func InspectVerb() cli.Verb {
	return cli.Verb{Name: "inspect", Summary: "show everything a model artifact holds", Run: runInspect}
}

const inspectHelp = `Prints everything a model artifact holds: format and version, machine, kind
and hyper-parameters, the feature configuration and its hash, the score, the
threshold with its method and calibration statistics, the decision rule, the
training record and history, and the weights' size. The container's checksum
and the weights are verified (the model is opened as a detector opens it).
--json prints the metadata as stored, plus the weights' size.

Example:
  train inspect fan-00.mhm
  train inspect --json fan-00.mhm | jq .threshold`

func runInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("train inspect", "train inspect [--json] MODEL", inspectHelp, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give exactly one model file", cli.ErrUsage)
	}
	l, err := model.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	m := &l.Meta
	if *asJSON {
		v := struct {
			model.Meta
			WeightsBytes int `json:"weights_bytes"`
		}{*m, len(l.Weights)}
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(v)
	}
	w := stdout
	fmt.Fprintf(w, "file            %s\n", fs.Arg(0))
	fmt.Fprintf(w, "format          %d (%s), checksum ok\n", m.FormatVersion, model.Magic)
	fmt.Fprintf(w, "version         %s\n", m.Version)
	fmt.Fprintf(w, "machine         %s\n", m.Machine)
	if m.Sensor != "" {
		fmt.Fprintf(w, "sensor          %s\n", m.Sensor)
	}
	fmt.Fprintf(w, "kind            %s\n", m.Kind)
	fmt.Fprintf(w, "created         %s by %s\n", m.Created.Format(time.RFC3339), m.Tool)
	fmt.Fprintf(w, "weights         %d bytes, %d values per patch", len(l.Weights), l.InputDim())
	if l.Bands() > 0 {
		fmt.Fprintf(w, ", tagged with %d bands", l.Bands())
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\nfeatures        %s\n", describeFeatures(m.Feature))
	fmt.Fprintf(w, "feature hash    %s\n", m.FeatureHash)
	fj, _ := json.Marshal(m.Feature.WithDefaults())
	fmt.Fprintf(w, "feature config  %s\n", fj)
	if m.Input != nil {
		in := m.Input
		fmt.Fprintf(w, "input           channel %q", in.Channel)
		if in.ChannelName != "" {
			fmt.Fprintf(w, " (%s)", in.ChannelName)
		}
		if in.Variable != "" {
			fmt.Fprintf(w, ", MAT variable %q", in.Variable)
		}
		if in.SourceRate != 0 {
			fmt.Fprintf(w, ", rate %g Hz given", in.SourceRate)
		}
		if in.SegmentNs > 0 {
			fmt.Fprintf(w, ", segments of %v", time.Duration(in.SegmentNs))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nhyper-parameters\n")
	var pretty bytes.Buffer
	if len(m.Hyper) > 0 && json.Indent(&pretty, m.Hyper, "  ", "  ") == nil {
		fmt.Fprintf(w, "  %s\n", pretty.String())
	}
	sj, _ := json.Marshal(m.Score)
	fmt.Fprintf(w, "\nscore           %s\n", sj)
	t := m.Threshold
	fmt.Fprintf(w, "threshold       %s\n", t)
	s := t.Stats
	fmt.Fprintf(w, "calibration     n %d, mean %.6g, sd %.6g, min %.6g, q50 %.6g, q90 %.6g, q95 %.6g, q99 %.6g, max %.6g\n",
		s.N, s.Mean, s.Std, s.Min, s.Q50, s.Q90, s.Q95, s.Q99, s.Max)
	if t.Gamma != nil {
		fmt.Fprintf(w, "gamma fit       shape %.6g, scale %.6g, offset %.6g (%d Newton steps)\n", t.Gamma.Shape, t.Gamma.Scale, t.Gamma.Offset, t.Gamma.Iterations)
	}
	d := m.Decision
	hop := d.Window.HopNs
	if hop == 0 {
		hop = d.Window.LengthNs
	}
	k, n := persistKN(d.Persistence)
	fmt.Fprintf(w, "decision        windows of %v every %v, %s of the patch scores; alarm when %d of the last %d windows are above\n",
		time.Duration(d.Window.LengthNs), time.Duration(hop), d.Window.Aggregation, k, n)
	if len(m.BinBaseline) > 0 {
		fmt.Fprintf(w, "bin baseline    %d bins (per-bin calibration means for localisation)\n", len(m.BinBaseline))
	}
	tr := m.Training
	fmt.Fprintf(w, "\ntraining        %d patches, %d epochs (best %d) in %.1f s, seed %d\n", tr.Patches, tr.Epochs, tr.BestEpoch, tr.Seconds, tr.Seed)
	fmt.Fprintf(w, "calibration     %d patches in %d windows\n", tr.CalibPatches, tr.CalibWindows)
	listFiles(w, "training files", tr.Files)
	listFiles(w, "calibration", tr.CalibrationFiles)
	if len(tr.History) > 0 {
		fmt.Fprintf(w, "\n  epoch  train loss     val loss       seconds\n")
		for i, e := range tr.History {
			if len(tr.History) > 25 && i >= 5 && i < len(tr.History)-5 && (i+1)%10 != 0 {
				continue
			}
			val := "-"
			if e.ValLoss != 0 && !math.IsNaN(e.ValLoss) {
				val = fmt.Sprintf("%.6g", e.ValLoss)
			}
			fmt.Fprintf(w, "  %5d  %-13.6g  %-13s  %.1f\n", e.Epoch, e.TrainLoss, val, e.Seconds)
		}
	}
	return nil
}

// persistKN returns the rule's K and N with the defaults (3, K) applied.
func persistKN(c threshold.PersistenceConfig) (k, n int) {
	k, n = c.K, c.N
	if k == 0 {
		k = 3
	}
	if n == 0 {
		n = k
	}
	return k, n
}

func listFiles(w io.Writer, what string, files []string) {
	switch {
	case len(files) == 0:
	case len(files) <= 4:
		for i, f := range files {
			label := ""
			if i == 0 {
				label = what
			}
			fmt.Fprintf(w, "%-15s %s\n", label, f)
		}
	default:
		fmt.Fprintf(w, "%-15s %d: %s ... %s\n", what, len(files), files[0], files[len(files)-1])
	}
}
