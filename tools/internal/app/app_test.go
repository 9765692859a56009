package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	_ "github.com/orchestrix/persistence/inmemory"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), cli.Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := run("--help")
	if code != cli.ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, c := range []string{"bench", "conformance", "migrate", "inspect", "copy", "Examples:", "inmemory"} {
		if !strings.Contains(out, c) {
			t.Errorf("help lacks %q:\n%s", c, out)
		}
	}
}

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	for _, c := range Commands() {
		code, out, stderr := run(c.Name, "--help")
		if code != cli.ExitOK || !strings.Contains(out, "Examples:") || stderr != "" {
			t.Errorf("%s --help: exit %d stderr %q\n%s", c.Name, code, stderr, out)
		}
		code, out, _ = run("help", c.Name)
		if code != cli.ExitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("help %s: exit %d", c.Name, code)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"bench", "--nope"}} {
		code, _, stderr := run(args...)
		if code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if len(args) > 0 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: want one line on stderr, got %q", args, stderr)
		}
	}
}

func TestRuntimeFailureExit1(t *testing.T) {
	code, _, stderr := run("inspect", "jobs", "--driver", "inmemory", "--dsn", "bogus://x")
	if code != cli.ExitFailure || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
