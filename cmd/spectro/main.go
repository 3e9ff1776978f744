// Command spectro turns raw signals into frequency-tagged spectrogram
// patches: offline for one file (spectro file) or as a stream worker.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mhmstream/mhm/internal/app/spectro"
	"github.com/mhmstream/mhm/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := cli.Program{
		Name:    "spectro",
		Summary: "streaming STFT: raw sensor signals in, frequency-tagged spectrogram patches out",
		Verbs:   []cli.Verb{spectro.FileVerb(), spectro.RunVerb()},
	}
	os.Exit(p.Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
