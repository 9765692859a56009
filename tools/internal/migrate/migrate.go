// Package migrate implements `orchestrix-store migrate status|up`: the
// versioned schema of drivers that have one (stores.Migrator).
package migrate

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

const usage = `Usage:
  orchestrix-store migrate status --dsn DSN [--driver ent]
  orchestrix-store migrate up     --dsn DSN [--driver ent]

status lists every migration the driver knows and whether it is applied;
up applies the pending ones, in order, and lists what it applied. Only
drivers with a versioned schema (the stores.Migrator ability; today: ent)
have migrations; for the others migrate says so and exits 0.

The ent driver migrates on open unless its DSN says migrate=false; this
command opens it with migrate=false so that status shows the truth and up
reports what it applied. Run 'migrate up' from a deploy step and open the
store with migrate=false in the application when the application's
database user may not change the schema.

Examples:
  orchestrix-store migrate status --dsn 'postgres://app@db:5432/orchestrix?sslmode=disable'
  orchestrix-store migrate up --dsn sqlite:///var/lib/orchestrix/orchestrix.db
`

// Run is the migrate command.
func Run(ctx context.Context, env cli.Env, args []string) int {
	if len(args) == 0 {
		return cli.Fail(env, "migrate", cli.Usagef("missing subcommand: status or up"))
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return cli.ExitOK
	case "status", "up":
	default:
		return cli.Fail(env, "migrate", cli.Usagef("unknown subcommand %q: use status or up", sub))
	}
	fs := cli.NewFlagSet(env, "migrate "+sub, usage)
	driver := fs.String("driver", "ent", "driver name")
	dsn := fs.String("dsn", "", "data source name (required)")
	if done, code := fs.Parse(args[1:]); done {
		return code
	}
	name := "migrate " + sub
	if fs.NArg() > 0 {
		return cli.Fail(env, name, cli.Usagef("unexpected argument %q", fs.Arg(0)))
	}
	if *dsn == "" && *driver != "inmemory" {
		return cli.Fail(env, name, cli.Usagef("--dsn is required"))
	}
	openDSN := *dsn
	if *driver == "ent" {
		openDSN = withoutAutoMigrate(openDSN)
	}
	s, err := cli.Open(ctx, *driver, openDSN)
	if err != nil {
		return cli.Fail(env, name, err)
	}
	defer s.Close()
	m, ok := s.Backend().(stores.Migrator)
	if !ok {
		fmt.Fprintf(env.Stdout, "driver %s needs no migrations: it keeps no versioned schema (it does not implement stores.Migrator)\n", *driver)
		return cli.ExitOK
	}
	if sub == "up" {
		applied, err := m.Migrate(ctx)
		if err != nil {
			return cli.Fail(env, name, fmt.Errorf("%s: %s", stores.RedactDSN(*dsn), cli.Redact(err.Error(), *dsn)))
		}
		for _, mg := range applied {
			fmt.Fprintf(env.Stdout, "applied %s %s\n", mg.Version, mg.Name)
		}
	}
	all, err := m.MigrationStatus(ctx)
	if err != nil {
		return cli.Fail(env, name, fmt.Errorf("%s: %s", stores.RedactDSN(*dsn), cli.Redact(err.Error(), *dsn)))
	}
	pending := 0
	for _, mg := range all {
		if !mg.Applied {
			pending++
		}
	}
	if sub == "status" {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED\tAPPLIED AT")
		for _, mg := range all {
			at := "-"
			if !mg.AppliedAt.IsZero() {
				at = mg.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mg.Version, mg.Name, yesNo(mg.Applied), at)
		}
		tw.Flush()
	}
	if pending == 0 {
		fmt.Fprintf(env.Stdout, "%s: schema is up to date (%d migrations applied)\n", stores.RedactDSN(*dsn), len(all))
	} else {
		fmt.Fprintf(env.Stdout, "%s: %d of %d migrations pending; run 'orchestrix-store migrate up'\n", stores.RedactDSN(*dsn), pending, len(all))
	}
	return cli.ExitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// withoutAutoMigrate adds migrate=false to an ent DSN unless it sets
// migrate itself.
func withoutAutoMigrate(dsn string) string {
	base, query, has := strings.Cut(dsn, "?")
	for _, kv := range strings.Split(query, "&") {
		if strings.HasPrefix(kv, "migrate=") {
			return dsn
		}
	}
	if has && query != "" {
		return base + "?" + query + "&migrate=false"
	}
	return base + "?migrate=false"
}
