// Package cli holds what the mhm programs share on the command line: a verb
// table with help, flag sets whose usage explains every flag and its
// default, environment-variable fallbacks (MHM_*), and the front-end flags
// that `spectro file` and `train` must spell the same way.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// ErrUsage marks an error in the command line; the program prints the
// usage of the verb and exits with status 2.
var ErrUsage = errors.New("usage")

// Verb is one sub-command of a program.
type Verb struct {
	Name    string
	Summary string // one line for the program's help
	// Run runs the verb with the arguments after its name. It returns an
	// error wrapping ErrUsage for a bad command line.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Program is a command with verbs (`train fit ...`, `mhm broker ...`).
type Program struct {
	Name    string
	Summary string // what the program does, printed first by --help
	Verbs   []Verb
}

// Main runs the verb named by args[0] and returns the process exit status:
// 0 on success, 2 for a usage error, 1 for any other error (printed to
// stderr prefixed with the program and verb).
func (p Program) Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return p.Main(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		p.usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, v := range p.Verbs {
		if v.Name != args[0] {
			continue
		}
		err := v.Run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, ErrUsage):
			fmt.Fprintf(stderr, "%s %s: %v\nRun '%s %s --help' for the flags.\n", p.Name, v.Name, err, p.Name, v.Name)
			return 2
		default:
			fmt.Fprintf(stderr, "%s %s: %v\n", p.Name, v.Name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
	p.usage(stderr)
	return 2
}

func (p Program) usage(w io.Writer) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s <command> [flags] [args]\n\nCommands:\n", p.Name, p.Summary, p.Name)
	for _, v := range p.Verbs {
		fmt.Fprintf(w, "  %-10s %s\n", v.Name, v.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for the flags of a command.\n", p.Name)
}

// FlagSet is a flag.FlagSet that knows which flags fall back to an
// environment variable.
type FlagSet struct {
	*flag.FlagSet
	env map[string]string // flag name -> variable
}

// NewFlagSet returns a flag set that returns errors instead of exiting and
// prints, on --help, the usage line, the description and every flag with
// its default (and its MHM_* variable where one is bound).
func NewFlagSet(name, usage, description string, out io.Writer) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), env: map[string]string{}}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\n%s\n\nFlags:\n", usage, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args, then applies the environment fallbacks: every flag
// bound with BindEnv that was not given on the command line takes the value
// of its variable when that is set. A bad value in either place is a usage
// error naming the flag or the variable.
func (fs *FlagSet) Parse(args []string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	set := Explicit(fs.FlagSet)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := fs.env[f.Name]
		if env == "" || set[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s=%q: %v", ErrUsage, env, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// BindEnv makes flag name fall back to the environment variable env and
// says so in its help. It panics if the flag does not exist.
func (fs *FlagSet) BindEnv(name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli: BindEnv of unknown flag " + name)
	}
	if fs.env[name] == "" {
		f.Usage += " (env " + env + ")"
	}
	fs.env[name] = env
}

// BindAllEnv binds every flag not bound yet to EnvName of its name.
func (fs *FlagSet) BindAllEnv() {
	fs.VisitAll(func(f *flag.Flag) {
		if fs.env[f.Name] == "" {
			fs.BindEnv(f.Name, EnvName(f.Name))
		}
	})
}

// EnvName is the conventional variable for a flag: MHM_ and the name in
// upper case with dashes as underscores ("sasl-user" -> "MHM_SASL_USER").
func EnvName(flagName string) string {
	return "MHM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Explicit returns the names of the flags given on the command line.
func Explicit(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// OneOf checks that v is one of the allowed values, with a usage error
// listing them otherwise.
func OneOf(flagName, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	s := append([]string(nil), allowed...)
	sort.Strings(s)
	return fmt.Errorf("%w: --%s %q: want one of %s", ErrUsage, flagName, v, strings.Join(s, ", "))
}
