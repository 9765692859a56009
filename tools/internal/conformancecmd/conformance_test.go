package conformancecmd

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	_ "github.com/orchestrix/persistence/ent"
	_ "github.com/orchestrix/persistence/inmemory"
	_ "github.com/orchestrix/persistence/redis"
	"github.com/orchestrix/persistence/tools/internal/cli"
	"github.com/orchestrix/persistence/tools/internal/faultydriver"
	"github.com/orchestrix/persistence/tools/internal/testenv"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestInmemoryPasses(t *testing.T) {
	code, out, stderr := run(t, "--driver", "inmemory")
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
	}
	for _, id := range []string{"J1", "J4", "S3", "W3", "L1", "D1", "E4"} {
		if !regexp.MustCompile(`(?m)^` + id + ` +pass +\(\d+ tests?\)$`).MatchString(out) {
			t.Errorf("no pass line for %s:\n%s", id, out)
		}
	}
	if !regexp.MustCompile(`(?m)^inmemory: \d+ passed, 0 failed, 0 skipped`).MatchString(out) {
		t.Errorf("no summary line:\n%s", out)
	}
}

// TestJ1_FaultyDriverFails: a driver that loses enqueued jobs must make the
// command exit 1 with J1 reported as failed.
func TestJ1_FaultyDriverFails(t *testing.T) {
	faultydriver.Register("faulty-conformance-lost-enqueue", faultydriver.LostEnqueue)
	code, out, _ := run(t, "--driver", "faulty-conformance-lost-enqueue")
	if code != cli.ExitFailure {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^J1 +FAIL +\(\d+ of \d+ tests? failed\): .+`).MatchString(out) {
		t.Errorf("J1 not reported as failed:\n%s", out)
	}
}

// TestJ4_FaultyDriverFails: a driver that hands one attempt to two
// dispatchers must fail J4.
func TestJ4_FaultyDriverFails(t *testing.T) {
	faultydriver.Register("faulty-conformance-double-dispatch", faultydriver.DoubleDispatch)
	code, out, _ := run(t, "--driver", "faulty-conformance-double-dispatch")
	if code != cli.ExitFailure {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^J4 +FAIL`).MatchString(out) {
		t.Errorf("J4 not reported as failed:\n%s", out)
	}
}

func TestVerboseAndSkip(t *testing.T) {
	code, out, _ := run(t, "--driver", "inmemory", "-v", "--skip", "L1")
	if code != cli.ExitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^pass  Jobs/J4_\S+  \(`).MatchString(out) {
		t.Errorf("-v should list tests:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^L1 +skip +\(\d+ tests?\): .*--skip`).MatchString(out) {
		t.Errorf("L1 should be skipped with the reason:\n%s", out)
	}
}

func TestSQLiteFilePerTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite on SQLite files")
	}
	code, out, stderr := run(t, "--driver", "ent", "--dsn", "sqlite://"+t.TempDir()+"/ignored.db")
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"--driver", "nope"}, {"--driver", "inmemory", "--bogus"}, {"--driver", "inmemory", "extra"}} {
		code, out, stderr := run(t, args...)
		if code != cli.ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, stderr)
		}
	}
	code, out, _ := run(t, "--help")
	if code != cli.ExitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

func TestWithParam(t *testing.T) {
	got, err := withParam("redis://h:1,h:2/0?prefix=a&pool_size=3", "prefix", "b")
	if err != nil || got != "redis://h:1,h:2/0?pool_size=3&prefix=b" {
		t.Errorf("got %q, %v", got, err)
	}
	got, _ = withParam("postgres://u@h/db", "search_path", "s1")
	if got != "postgres://u@h/db?search_path=s1" {
		t.Errorf("got %q", got)
	}
}

func TestIDOf(t *testing.T) {
	for name, want := range map[string]string{
		"Jobs/J4_ConcurrentDispatch":     "J4",
		"Schedules/Cron/S3_FireOnce/sub": "S3",
		"Jobs/J10_Query":                 "J10",
		"Misc/Something":                 "Misc",
	} {
		if got := idOf(name); got != want {
			t.Errorf("idOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestPostgresSchemaPerTest runs the suite on PostgreSQL, a schema per
// test, and checks that no schema is left behind.
func TestPostgresSchemaPerTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite on PostgreSQL")
	}
	dsn := testenv.PostgresDSN(t)
	code, out, stderr := run(t, "--driver", "ent", "--dsn", dsn)
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
	}
}

// TestRedisPrefixPerTest runs the suite on Redis, a key prefix per test.
func TestRedisPrefixPerTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite on Redis")
	}
	dsn := testenv.RedisDSN(t)
	code, out, stderr := run(t, "--driver", "redis", "--dsn", dsn)
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
	}
}
