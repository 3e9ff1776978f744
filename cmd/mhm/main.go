// Command mhm is the project's toolbox. Verbs:
//
//	mhm broker   run an in-memory Kafka-protocol broker with mhm's topics
//	mhm demo     the whole pipeline on an embedded broker: simulated fleet or FEMTO bearing, report
//
// Run "mhm VERB -help" for a verb's flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
