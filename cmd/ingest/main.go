// Command ingest puts sensor frames into Kafka: `ingest serve` is the HTTP
// API for gateways, `ingest replay` streams recordings, `ingest encode`
// writes frame files for kcat or curl. See docs/pipeline.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mhmstream/mhm/internal/app/ingest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ingest.Program().Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
