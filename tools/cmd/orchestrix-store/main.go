// Command orchestrix-store benchmarks, certifies, migrates, inspects and
// copies Orchestrix persistence stores. Run it with --help for the commands.
//
// Every shipped driver is compiled in (see the drivers_*.go files), so
// `go install github.com/orchestrix/persistence/tools/cmd/orchestrix-store@latest`
// gives one binary that opens any of them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/orchestrix/persistence/tools/internal/app"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, cli.StdEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
