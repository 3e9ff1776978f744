package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/pkg/model"
)

// ErrStrict is returned by the verb with --strict when a detectable fault
// was missed or a false alarm raised.
var ErrStrict = fmt.Errorf("demo: --strict")

// Verb is `mhm demo`.
func Verb() cli.Verb {
	return cli.Verb{Name: "demo", Summary: "the whole pipeline on an embedded broker: a simulated fleet with faults (or a FEMTO bearing to failure), events, summary and a report", Run: runVerb}
}

const help = `Runs the whole mhm pipeline in this process, with nothing to set up and no
network: an embedded Kafka-protocol broker (in memory, on a free loopback
port), the ingest HTTP API, spectro and detect (the workers' own code).

Default: a simulated fleet (pkg/sim) of fans, pumps, a gearbox, a bearing rig
and a motor. Each machine's model is fitted with 'train fit' on its first
healthy minutes (WAV files in the report's work folder; every third clip held
out to learn the threshold) and published to the models topic. The fleet is
then streamed through ingest faster than real time while faults start at known
times; anomaly events are printed as they arrive; a summary table says, per
machine, what was injected, when it was detected, what was missed and any
false alarm. The report folder gets PNG figures (spectrograms with the
anomalous windows marked, score timelines) and index.html.

--femto (or --data DIR) replays a FEMTO/PRONOSTIA bearing to failure instead:
fit a VAE (--femto-model) on the first 15% of its snapshots, threshold on 15-20%, then the whole
test through the pipeline; the summary says when the alarm came (% of life,
minutes before the end). DIR is a folder with femto/Learning_set/BEARING (or
the bearing's folder, or femto.tar.xz); --femto finds ../shared/data/femto.tar.xz.

Exit status: 0 when the demo ran to its end (whatever it found, unless
--strict), 1 when it could not run, 2 for a bad command line. See docs/demo.md.`

func runVerb(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("mhm demo", "mhm demo [flags]", help, stderr)
	var o Options
	fs.StringVar(&o.Out, "out", "report", "report folder (index.html, PNG figures, models, events, logs)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the simulated fleet and of training")
	fs.IntVar(&o.Machines, "machines", 6, "machines in the simulated fleet (kinds cycle fan, pump, gearbox, bearing, motor; roles cycle clear fault, healthy, clear fault, degradation, healthy, hidden fault)")
	fs.DurationVar(&o.Healthy, "healthy", 2*time.Minute, "healthy lead of every machine, used to train its model (at least 2m for a model that has seen the machine's drift)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Minute, "each machine's whole signal; what follows the healthy lead is streamed, with the faults")
	fs.IntVar(&o.Epochs, "epochs", 0, "training epochs (0: 15 for the microphones, 10 for the accelerometers, train fit's 100 for FEMTO)")
	fs.Float64Var(&o.Speed, "speed", 0, "stream time per wall time, e.g. 20 for twenty times real time (0: as fast as the pipeline goes)")
	fs.DurationVar(&o.Frame, "frame", time.Second, "signal per raw frame posted to ingest (one request each)")
	femto := fs.Bool("femto", false, "replay the FEMTO bearing from ../shared/data/femto.tar.xz to failure instead of the simulated fleet")
	fs.StringVar(&o.Data, "data", "", "replay a FEMTO bearing from `DIR` (a folder with femto/Learning_set/BEARING, the bearing's folder, or femto.tar.xz)")
	fs.StringVar(&o.Bearing, "bearing", "Bearing2_1", "FEMTO bearing to replay")
	fs.StringVar(&o.FemtoModel, "femto-model", "vae", "model fitted on the FEMTO bearing: "+strings.Join(model.Kinds, ", "))
	fs.BoolVar(&o.KeepWork, "keep-work", false, "keep OUT/work (training WAV files, unpacked data)")
	fs.StringVar(&o.HTTPAddr, "http-addr", "", "serve the stages' /metrics, /healthz and /readyz on this address while the demo runs (empty: off)")
	strict := fs.Bool("strict", false, "exit with status 1 when a detectable fault is missed or a false alarm is raised")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	if *femto && o.Data == "" {
		o.Data = "auto"
	}
	if err := cli.OneOf("femto-model", o.FemtoModel, model.Kinds...); err != nil {
		return err
	}
	o.Stdout = stdout
	if err := o.checkFlags(); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	res, err := Run(ctx, o)
	if err != nil {
		return err
	}
	if *strict && (!res.AllDetected() || res.FalseAlarms > 0) {
		return fmt.Errorf("%w: %d of %d detectable faults detected, %d false alarms", ErrStrict, res.Detected, res.Detectable, res.FalseAlarms)
	}
	return nil
}

// checkFlags validates the options as the flags set them: a zero given on
// the command line is an error, not "the default".
func (o Options) checkFlags() error {
	switch {
	case o.Machines < 1:
		return fmt.Errorf("%w: --machines %d: want 1 to 60", ErrOptions, o.Machines)
	case o.Healthy <= 0 || o.Duration <= 0 || o.Frame <= 0:
		return fmt.Errorf("%w: --healthy, --duration and --frame must be positive", ErrOptions)
	}
	o.defaults()
	return o.validate()
}
