package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/model"
)

// ScoreVerb is `train score`.
func ScoreVerb() cli.Verb {
	return cli.Verb{Name: "score", Summary: "score recordings with a model: score, threshold, verdict, most anomalous frequencies", Run: runScore}
}

const scoreHelp = `Scores recordings with a trained model, one line per file (per --segment
window when the model was fitted on segments) in the order given:

  FILE  score  threshold  anomalous  top 3 frequency ranges

The score is the item's decision-window score: its patch scores aggregated as
the model's decision rule says (the largest window score if the file is longer
than one window). The frequency ranges are the spectrogram bins whose
per-feature scores exceed their calibration baseline the most, with their Hz
range (mel bins span their triangle). Recordings are read as the model was
trained (channel, MAT variable, segment length); the flags override that.

Example:
  train score --model fan-00.mhm data/dcase/test/*.wav
  train score --model fan-00.mhm --json clip.wav | jq .score`

// itemJSON is one line of `score --json`.
type itemJSON struct {
	File         string     `json:"file"`
	Segment      *int       `json:"segment,omitempty"`
	OffsetS      float64    `json:"offset_s"`
	Seconds      float64    `json:"seconds"`
	Score        float64    `json:"score"`
	Threshold    float64    `json:"threshold"`
	Anomalous    bool       `json:"anomalous"`
	Windows      int        `json:"windows"`
	WindowsAbove int        `json:"windows_above"`
	Top          []binScore `json:"top"`
}

func runScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("train score", "train score --model MODEL [--json] PATHS...", scoreHelp, stderr)
	path := fs.String("model", "", "model artifact (required)")
	asJSON := fs.Bool("json", false, "write JSON lines instead of text")
	in := addInputFlags(fs, "; default: as the model was trained")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, items, err := loadAndRead(ctx, *path, in, fs.Args())
	if err != nil {
		return err
	}
	eng := newEngine(l)
	th := l.Meta.Threshold.Value
	enc := json.NewEncoder(stdout)
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := eng.score(it, 0, it.N)
		j := itemOut(it, r, th)
		if *asJSON {
			if err := enc.Encode(j); err != nil {
				return err
			}
			continue
		}
		var top []string
		for _, b := range r.Top {
			top = append(top, fmt.Sprintf("%s(%+.3g)", hzRange(b.LowHz, b.HighHz), b.Score))
		}
		wins := ""
		if len(r.Windows) > 1 {
			wins = fmt.Sprintf("\twindows above %d/%d", r.Above, len(r.Windows))
		}
		fmt.Fprintf(stdout, "%s\tscore %.6g\tthreshold %.6g\tanomalous %t%s\ttop %s\n",
			it.Name(), r.Score, th, j.Anomalous, wins, strings.Join(top, " "))
	}
	return nil
}

func itemOut(it *item, r result, th float64) itemJSON {
	j := itemJSON{File: it.Source.Path, OffsetS: it.Offset, Seconds: it.Seconds, Score: r.Score, Threshold: th,
		Anomalous: r.Above > 0, Windows: len(r.Windows), WindowsAbove: r.Above, Top: r.Top}
	if it.Segment >= 0 {
		seg := it.Segment
		j.Segment = &seg
	}
	if j.Top == nil {
		j.Top = []binScore{}
	}
	return j
}

// loadAndRead loads the model and reads the recordings as it was trained
// (its feature configuration, and its input settings unless overridden).
func loadAndRead(ctx context.Context, path string, in *inputFlags, args []string) (*model.Loaded, []*item, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("%w: --model is required", cli.ErrUsage)
	}
	srcs, err := parseSources(args)
	if err != nil {
		return nil, nil, err
	}
	l, err := model.Load(path)
	if err != nil {
		return nil, nil, err
	}
	inp := in.resolve(l.Meta.Input)
	rd := &reader{in: inp, cfg: l.Meta.Feature, from: fmt.Sprintf("model %s was trained on them", l.Meta.Version)}
	items, err := rd.readAll(ctx, srcs)
	if err != nil {
		return nil, nil, err
	}
	return l, items, nil
}

// hzRange formats a frequency range compactly: "2531-2719Hz", "1.2-1.4kHz".
func hzRange(lo, hi float64) string {
	if hi >= 10000 {
		return fmt.Sprintf("%.1f-%.1fkHz", lo/1000, hi/1000)
	}
	return fmt.Sprintf("%.0f-%.0fHz", lo, hi)
}
