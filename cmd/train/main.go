// Command train fits per-machine anomaly models on recordings of healthy
// machines, learns their thresholds, and evaluates them: train fit, score,
// eval, timeline, inspect. See docs/train.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mhmstream/mhm/internal/app/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(train.Program().Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
