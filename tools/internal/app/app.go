// Package app is the command table of orchestrix-store: it picks the
// subcommand from the first argument and runs it.
package app

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/bench"
	"github.com/orchestrix/persistence/tools/internal/cli"
	"github.com/orchestrix/persistence/tools/internal/conformancecmd"
	copycmd "github.com/orchestrix/persistence/tools/internal/copy"
	"github.com/orchestrix/persistence/tools/internal/inspect"
	"github.com/orchestrix/persistence/tools/internal/migrate"
)

// Commands lists the subcommands in the order help shows them.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: "bench", Summary: "measure a store: burndown throughput and latency, or a crash-and-failover cluster run with invariant checks", Run: bench.Run},
		{Name: "conformance", Summary: "run the conformance suite against a driver and server, one line per guarantee", Run: conformancecmd.Run},
		{Name: "migrate", Summary: "show or apply schema migrations (ent driver)", Run: migrate.Run},
		{Name: "inspect", Summary: "list jobs, schedules, workers, nodes or dead letters", Run: inspect.Run},
		{Name: "copy", Summary: "copy every record from one store to another, resumably", Run: copycmd.Run},
	}
}

// Main runs the program with args (without the program name) and returns
// the exit code.
func Main(ctx context.Context, env cli.Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "%s: missing command (commands: %s; run '%s --help')\n", cli.Program, strings.Join(names(), ", "), cli.Program)
		return cli.ExitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && name == "help" {
			return Main(ctx, env, []string{args[1], "--help"})
		}
		usage(env)
		return cli.ExitOK
	}
	for _, c := range Commands() {
		if c.Name == name {
			return c.Run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "%s: unknown command %q (commands: %s; run '%s --help')\n",
		cli.Program, name, strings.Join(names(), ", "), cli.Program)
	return cli.ExitUsage
}

func names() []string {
	var n []string
	for _, c := range Commands() {
		n = append(n, c.Name)
	}
	return n
}

func usage(env cli.Env) {
	w := env.Stdout
	fmt.Fprintf(w, `%[1]s: tools for Orchestrix persistence stores.

Usage:
  %[1]s <command> [flags]

Commands:
`, cli.Program)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range Commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Summary)
	}
	tw.Flush()
	fmt.Fprintf(w, `
Drivers built in: %[2]s

Examples:
  %[1]s bench                                   # ent on a fresh SQLite file, 20000 jobs
  %[1]s bench --driver inmemory --driver ent    # two drivers side by side
  %[1]s bench --scenario cluster --duration 10s # leader failover, crashes, invariants
  %[1]s conformance --driver ent --dsn postgres://postgres@127.0.0.1:5432/test?sslmode=disable
  %[1]s migrate up --dsn sqlite:///var/lib/orchestrix/orchestrix.db
  %[1]s inspect jobs --driver redis --dsn redis://127.0.0.1:6379/0 --status failed

Run '%[1]s <command> --help' for the flags of a command.
Exit codes: 0 success, 1 runtime failure, 2 usage error.
`, cli.Program, strings.Join(stores.Drivers(), ", "))
}
