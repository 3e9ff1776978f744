package main

import (
	"context"
	"io"

	"github.com/mhmstream/mhm/internal/app/demo"
	"github.com/mhmstream/mhm/internal/cli"
)

// program is mhm's verb table; a new verb is one more entry.
func program() cli.Program {
	return cli.Program{
		Name:    "mhm",
		Summary: "the toolbox of the mhm machine-health-monitoring pipeline",
		Verbs: []cli.Verb{
			{Name: "broker", Summary: "run an in-memory Kafka-protocol broker (kfake) with the mhm topics, for local runs", Run: runBroker},
			demo.Verb(),
		},
	}
}

// run dispatches args to a verb and returns the exit code: 0 on success
// (and for --help), 2 for a usage error, 1 for a failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Main(ctx, args, stdout, stderr)
}
