package migrate

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/orchestrix/persistence/ent"
	_ "github.com/orchestrix/persistence/inmemory"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestStatusThenUpOnSQLite(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	code, out, stderr := run(t, "status", "--dsn", dsn)
	if code != cli.ExitOK {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^\d+ +\S+ +no +-$`).MatchString(out) || !strings.Contains(out, "pending") {
		t.Fatalf("a fresh database should list pending migrations:\n%s", out)
	}
	code, out, stderr = run(t, "up", "--dsn", dsn)
	if code != cli.ExitOK || !strings.Contains(out, "applied ") || !strings.Contains(out, "up to date") {
		t.Fatalf("up: exit %d: %s\n%s", code, stderr, out)
	}
	code, out, _ = run(t, "status", "--dsn", dsn)
	if code != cli.ExitOK || strings.Contains(out, " no ") || !strings.Contains(out, "up to date") {
		t.Fatalf("after up every migration is applied:\n%s", out)
	}
	code, out, _ = run(t, "up", "--dsn", dsn)
	if code != cli.ExitOK || strings.Contains(out, "applied ") {
		t.Fatalf("a second up applies nothing:\n%s", out)
	}
}

func TestDriverWithoutMigrations(t *testing.T) {
	code, out, _ := run(t, "status", "--driver", "inmemory")
	if code != cli.ExitOK || !strings.Contains(out, "needs no migrations") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"sideways"}, {"status"}, {"up", "--dsn", "x", "--nope"}, {"status", "--dsn", "x", "extra"}} {
		code, out, stderr := run(t, args...)
		if code != cli.ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, stderr)
		}
	}
	code, _, stderr := run(t, "status", "--dsn", "postgres://u:hunter2@127.0.0.1:1/x?sslmode=disable")
	if code != cli.ExitFailure || strings.Contains(stderr, "hunter2") {
		t.Errorf("runtime failure: exit %d, stderr %q", code, stderr)
	}
	if code, out, _ := run(t, "--help"); code != cli.ExitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: %d %s", code, out)
	}
}

func TestWithoutAutoMigrate(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:///a.db":                  "sqlite:///a.db?migrate=false",
		"postgres://h/db?sslmode=disable": "postgres://h/db?sslmode=disable&migrate=false",
		"sqlite:///a.db?migrate=true":     "sqlite:///a.db?migrate=true",
	} {
		if got := withoutAutoMigrate(in); got != want {
			t.Errorf("%s: got %s want %s", in, got, want)
		}
	}
}
