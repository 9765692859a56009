// Package cli holds what every orchestrix-store subcommand shares: exit
// codes, flag parsing that reports errors as one line, repeatable flags, and
// opening a store by driver name and DSN without ever printing a password.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/orchestrix/persistence/abstractions/stores"
	"golang.org/x/term"
)

// Exit codes of every subcommand.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the command ran and failed (store error, violated invariant, failed test)
	ExitUsage   = 2 // the command line was wrong (unknown flag or subcommand, missing argument)
)

// Program is the name the program reports in messages.
const Program = "orchestrix-store"

// Env is what a command writes to. Tests run commands in-process with buffers.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// IsTerminal reports whether Stdout is an interactive terminal (progress
	// bars are drawn only then). Nil means "no".
	IsTerminal func() bool
}

// StdEnv returns the Env of the running process.
func StdEnv() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, IsTerminal: func() bool { return isTerminal(os.Stdout) }}
}

// Terminal reports whether progress output may be drawn.
func (e Env) Terminal() bool { return e.IsTerminal != nil && e.IsTerminal() }

// isTerminal reports whether f is an interactive terminal; a pipe, a file
// or /dev/null is not.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Command is one subcommand: it parses args itself and returns an exit code.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env Env, args []string) int
}

// UsageError is a wrong command line: reported as one line, exit code 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Fail reports err as one line on stderr, prefixed with the command name,
// and returns the matching exit code: ExitUsage for a *UsageError, else
// ExitFailure. A nil err is ExitOK.
func Fail(env Env, cmd string, err error) int {
	if err == nil {
		return ExitOK
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "%s %s: %s (run '%s %s --help' for usage)\n", Program, cmd, msg, Program, cmd)
		return ExitUsage
	}
	fmt.Fprintf(env.Stderr, "%s %s: %s\n", Program, cmd, msg)
	return ExitFailure
}

// FlagSet is a flag.FlagSet whose help goes to stdout and whose errors are
// one line on stderr.
type FlagSet struct {
	*flag.FlagSet
	env   Env
	usage string // text printed above the flag list
}

// NewFlagSet returns the flag set of subcommand name (for example "bench"
// or "inspect jobs"). usage is printed by --help above the flag defaults:
// a synopsis, a description and examples.
func NewFlagSet(env Env, name, usage string) *FlagSet {
	fs := flag.NewFlagSet(Program+" "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &FlagSet{FlagSet: fs, env: env, usage: usage}
}

// PrintHelp writes the usage text and the flag defaults to stdout.
func (f *FlagSet) PrintHelp() {
	w := f.env.Stdout
	fmt.Fprint(w, strings.TrimLeft(f.usage, "\n"))
	if !strings.HasSuffix(f.usage, "\n") {
		fmt.Fprintln(w)
	}
	has := false
	f.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

// Parse parses args. It returns (true, ExitOK) after printing help for
// -h/--help, (true, ExitUsage) after reporting a bad flag, and (false, 0)
// when the command should run.
func (f *FlagSet) Parse(args []string) (done bool, code int) {
	err := f.FlagSet.Parse(args)
	switch {
	case err == nil:
		return false, 0
	case errors.Is(err, flag.ErrHelp):
		f.PrintHelp()
		return true, ExitOK
	default:
		return true, Fail(f.env, strings.TrimPrefix(f.Name(), Program+" "), &UsageError{Msg: err.Error()})
	}
}

// Set reports whether the flag name was given on the command line.
func (f *FlagSet) Set(name string) bool {
	found := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			found = true
		}
	})
	return found
}

// Strings is a repeatable string flag.
type Strings []string

// String implements flag.Value.
func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }

// Open opens a store by driver name and DSN. Errors never contain the DSN's
// password; an unknown driver lists the ones built in.
func Open(ctx context.Context, driver, dsn string) (*stores.Store, error) {
	if driver == "" {
		return nil, Usagef("--driver is required (built-in drivers: %s)", strings.Join(stores.Drivers(), ", "))
	}
	if !Registered(driver) {
		return nil, Usagef("unknown driver %q; drivers built into this binary: %s", driver, strings.Join(stores.Drivers(), ", "))
	}
	s, err := stores.OpenContext(ctx, driver, dsn)
	if err != nil {
		return nil, errors.New(Redact(err.Error(), dsn))
	}
	return s, nil
}

// Registered reports whether driver is registered.
func Registered(driver string) bool {
	for _, d := range stores.Drivers() {
		if d == driver {
			return true
		}
	}
	return false
}

// Redact removes dsn's password from msg: drivers redact their own errors,
// but a wrapped library error may still quote the DSN it was given.
func Redact(msg, dsn string) string {
	if dsn != "" {
		if red := stores.RedactDSN(dsn); red != dsn {
			msg = strings.ReplaceAll(msg, dsn, red)
		}
	}
	return stores.RedactDSN(msg)
}
