// Command detect scores the patch stream with the machines' models and
// emits anomaly events: `detect run` is the worker, `detect publish` puts
// model artifacts on the models topic. See docs/pipeline.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mhmstream/mhm/internal/app/detect"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := detect.Program().Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
