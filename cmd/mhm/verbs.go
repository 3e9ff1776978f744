package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// A verb is one subcommand. Adding one (e.g. "demo") is one entry in verbs.
type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var verbs = []verb{
	{"broker", "run an in-memory Kafka-protocol broker (kfake) with the mhm topics, for local runs", runBroker},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mhm VERB [flags]")
	fmt.Fprintln(w, "\nmhm is the toolbox of the mhm machine-health-monitoring pipeline.\n\nVerbs:")
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-8s %s\n", v.name, v.summary)
	}
	fmt.Fprintln(w, "\nRun \"mhm VERB -help\" for a verb's flags. Every flag NAME can also be set with the")
	fmt.Fprintln(w, "environment variable MHM_NAME (upper case, '-' as '_').")
}

// run dispatches args to a verb and returns the exit code: 0 on success
// (and for -help), 2 for a usage error, 1 for a failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, v := range verbs {
		if v.name != args[0] {
			continue
		}
		err := v.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "mhm %s: %v\n", v.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "mhm: unknown verb %q\n\n", args[0])
	usage(stderr)
	return 2
}

// errUsage marks a flag parsing error already reported by the flag package.
var errUsage = errors.New("usage error")
