// Package spectro implements the spectro program: `spectro file` computes
// the spectrogram of a recording offline, and `spectro run` is the stream
// worker that turns raw frames into frequency-tagged patches.
package spectro

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mhmstream/mhm/internal/cli"
	"github.com/mhmstream/mhm/internal/npy"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/signal"
)

// FileVerb is `spectro file`.
func FileVerb() cli.Verb {
	return cli.Verb{Name: "file", Summary: "write the spectrogram of a recording (WAV, FEMTO CSV, MAT, CSV) as a .npy array", Run: runFile}
}

const fileHelp = `Computes the log-mel (or, with --mels 0, log-power) spectrogram of one channel
of a recording with exactly the front end the stream and the trainer use, and
writes it as float32 of shape (frames, bins) in NumPy .npy format:

  python3 -c 'import numpy; print(numpy.load("OUT.npy").shape)'

Formats are chosen by extension: .wav (PCM 16/24/32-bit, float), .mat (MATLAB
level 5, e.g. CWRU), .csv (FEMTO acc_*.csv is detected; other CSV needs --sr).`

func runFile(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("spectro file", "spectro file --in FILE [--channel N] [--sr HZ] [feature flags] --out OUT.npy", fileHelp, stderr)
	in := fs.String("in", "", "recording to read (required)")
	out := fs.String("out", "", "where to write the .npy spectrogram (required)")
	channel := fs.Int("channel", 0, "channel to transform, counting from 0")
	sr := fs.Float64("sr", 0, "sample rate in Hz, for CSV files without one (and MAT files whose name does not say 12k/48k)")
	variable := fs.String("variable", "", "MAT variable to read (exact name or suffix such as _DE_time); default: the longest vectors")
	ff := cli.AddFeatureFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return fmt.Errorf("%w: --in and --out are required", cli.ErrUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	sig, err := signal.Read(*in, signal.Options{Rate: *sr, Variable: *variable})
	if err != nil {
		return err
	}
	if *channel < 0 || *channel >= sig.NumChannels() {
		return fmt.Errorf("%w: --channel %d: %s has %d channel(s)", cli.ErrUsage, *channel, *in, sig.NumChannels())
	}
	cfg, err := ff.Config(sig.Rate)
	if err != nil {
		return err
	}
	start := time.Now()
	frames, err := feature.Spectrogram(cfg, sig.Channel(*channel))
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	bins := cfg.Bins()
	flat := make([]float32, 0, len(frames)*bins)
	for _, f := range frames {
		flat = append(flat, f...)
	}
	if err := npy.WriteFile(*out, flat, len(frames), bins); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d frames × %d bins (%.2f s at %g Hz, channel %d) in %v; feature hash %s\n",
		*out, len(frames), bins, sig.Duration().Seconds(), sig.Rate, *channel, time.Since(start).Round(time.Millisecond), cfg.Hash()[:12])
	return nil
}
