// Command composecheck loads a Compose file with compose-go, the library
// behind `docker compose config`, validating it against the Compose
// specification's schema and resolving it as Compose v2 would, and prints
// the resolved project. It exits 1 with the loader's error when the file is
// invalid. It is its own module so that the mhm module does not depend on
// compose-go.
//
//	cd scripts/composecheck && go run . ../../docker-compose.yml
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck COMPOSE-FILE...")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(os.Args[1:], cli.WithOsEnv, cli.WithDotEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "composecheck: %v: invalid: %v\n", os.Args[1:], err)
		os.Exit(1)
	}
	out, err := p.MarshalYAML()
	if err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
	fmt.Fprintf(os.Stderr, "composecheck: %v: valid (project %q, %d services)\n", os.Args[1:], p.Name, len(p.Services))
}
