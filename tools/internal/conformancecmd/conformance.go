// Package conformancecmd implements `orchestrix-store conformance`: the
// conformance suite run outside go test against a driver and a server, one
// line per guarantee, so a user can certify a compatible server.
package conformancecmd

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	"github.com/orchestrix/persistence/conformance"
	"github.com/orchestrix/persistence/tools/internal/cli"
)

const usage = `Usage:
  orchestrix-store conformance --driver NAME [--dsn DSN] [-v] [--skip ID]...

Runs the conformance suite (every guarantee of the contract: J1-J10, S1-S5,
W1-W3, L1, D1, E1-E4) against the driver and server the DSN names, and
prints one line per guarantee: pass, FAIL with the first failure, or skip
with the reason. -v also prints every test. Exit code 0 only when no test
failed (and at least one ran).

Every test gets a fresh, isolated store, created next to the one the DSN
names and removed afterwards:
  inmemory          a new store per test
  ent, SQLite       a new database file per test in a temporary folder
  ent, PostgreSQL   a new schema per test (CREATE SCHEMA, search_path),
                    dropped at the end; the DSN's user needs CREATE on the database
  redis             a new random key prefix per test (prefix=...), its keys
                    deleted at the end (SCAN/UNLINK, never FLUSHDB)
  other drivers     the DSN as given for every test: the driver must isolate

Examples:
  orchestrix-store conformance --driver inmemory
  orchestrix-store conformance --driver ent --dsn sqlite:///tmp/conformance.db
  orchestrix-store conformance --driver ent --dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' -v
  orchestrix-store conformance --driver redis --dsn redis://127.0.0.1:6379/15
  orchestrix-store conformance --driver redis --dsn redis://127.0.0.1:6379/15 --skip W3
`

// Run is the conformance command.
func Run(ctx context.Context, env cli.Env, args []string) int {
	fs := cli.NewFlagSet(env, "conformance", usage)
	driver := fs.String("driver", "", "driver name (required)")
	dsn := fs.String("dsn", "", "data source name of the server to certify")
	verbose := fs.Bool("v", false, "print every test, with its messages when it failed or skipped")
	var skips cli.Strings
	fs.Var(&skips, "skip", "guarantee id or test name to skip, as unsupported (repeatable)")
	if done, code := fs.Parse(args); done {
		return code
	}
	if fs.NArg() > 0 {
		return cli.Fail(env, "conformance", cli.Usagef("unexpected argument %q", fs.Arg(0)))
	}
	if *driver == "" {
		return cli.Fail(env, "conformance", cli.Usagef("--driver is required (drivers: %s)", strings.Join(stores.Drivers(), ", ")))
	}
	if !cli.Registered(*driver) {
		return cli.Fail(env, "conformance", cli.Usagef("unknown driver %q; drivers built into this binary: %s", *driver, strings.Join(stores.Drivers(), ", ")))
	}
	h, err := newHarness(ctx, env, *driver, *dsn)
	if err != nil {
		return cli.Fail(env, "conformance", err)
	}
	defer h.close()

	f := conformance.Features{Unsupported: map[string]string{}}
	for _, s := range skips {
		f.Unsupported[s] = "skipped with --skip"
	}
	start := time.Now()
	agg := newAggregate()
	conformance.RunSuite(ctx, h, f, func(r conformance.Result) {
		agg.add(r)
		if *verbose {
			printTest(env.Stdout, r)
		}
	})
	if ctx.Err() != nil {
		return cli.Fail(env, "conformance", fmt.Errorf("interrupted"))
	}
	if *verbose && len(agg.order) > 0 {
		fmt.Fprintln(env.Stdout)
	}
	agg.print(env.Stdout)
	target := *driver
	if *dsn != "" {
		target += " " + stores.RedactDSN(*dsn)
	}
	fmt.Fprintf(env.Stdout, "%s: %d passed, %d failed, %d skipped in %.1fs\n",
		target, agg.passed, agg.failed, agg.skipped, time.Since(start).Seconds())
	if err := h.err(); err != nil {
		fmt.Fprintf(env.Stderr, "%s conformance: cleanup: %s\n", cli.Program, cli.Redact(err.Error(), *dsn))
	}
	switch {
	case agg.failed > 0:
		return cli.ExitFailure
	case agg.passed+agg.skipped == 0:
		fmt.Fprintf(env.Stderr, "%s conformance: the suite ran no test\n", cli.Program)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

func printTest(w io.Writer, r conformance.Result) {
	status := r.Status
	if status == "fail" {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%-4s  %s  (%s)\n", status, r.Name, r.Duration.Round(time.Millisecond))
	if r.Status != "pass" && r.Message != "" {
		for _, line := range strings.Split(r.Message, "\n") {
			fmt.Fprintf(w, "        %s\n", line)
		}
	}
}

// guaranteeID finds the guarantee id of a test name: the first path
// segment that starts with an id such as "J4_" ("Jobs/J4_X" → "J4").
var guaranteeID = regexp.MustCompile(`^([A-Z][0-9]+)(?:_|$)`)

func idOf(name string) string {
	segs := strings.Split(name, "/")
	for _, s := range segs {
		if m := guaranteeID.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return segs[0]
}

// group is what one guarantee's tests came to.
type group struct {
	pass, fail, skip int
	firstFail        string
	firstSkip        string
}

// aggregate groups leaf results by guarantee, in the order the suite ran.
type aggregate struct {
	mu                      sync.Mutex
	order                   []string
	groups                  map[string]*group
	passed, failed, skipped int
}

func newAggregate() *aggregate { return &aggregate{groups: map[string]*group{}} }

func (a *aggregate) add(r conformance.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id := idOf(r.Name)
	g := a.groups[id]
	if g == nil {
		g = &group{}
		a.groups[id] = g
		a.order = append(a.order, id)
	}
	first := strings.SplitN(strings.TrimSpace(r.Message), "\n", 2)[0]
	switch r.Status {
	case "pass":
		g.pass++
		a.passed++
	case "skip":
		g.skip++
		a.skipped++
		if g.firstSkip == "" {
			g.firstSkip = first
		}
	default:
		g.fail++
		a.failed++
		if g.firstFail == "" {
			g.firstFail = r.Name + ": " + first
		}
	}
}

func (a *aggregate) print(w io.Writer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range a.order {
		g := a.groups[id]
		n := g.pass + g.fail + g.skip
		switch {
		case g.fail > 0:
			fmt.Fprintf(w, "%-4s FAIL  (%d of %s failed): %s\n", id, g.fail, tests(n), g.firstFail)
		case g.pass == 0:
			fmt.Fprintf(w, "%-4s skip  (%s): %s\n", id, tests(n), g.firstSkip)
		case g.skip > 0:
			fmt.Fprintf(w, "%-4s pass  (%s, %d skipped: %s)\n", id, tests(n), g.skip, g.firstSkip)
		default:
			fmt.Fprintf(w, "%-4s pass  (%s)\n", id, tests(n))
		}
	}
}

func tests(n int) string {
	if n == 1 {
		return "1 test"
	}
	return fmt.Sprintf("%d tests", n)
}

// harness opens an isolated store per test, by driver.
type harness struct {
	env    cli.Env
	driver string
	dsn    string
	open   func(ctx context.Context) (*stores.Store, error)

	mu       sync.Mutex
	cleanups []func() error
	errs     []error
}

// Open implements conformance.Harness.
func (h *harness) Open(ctx context.Context) (*stores.Store, error) { return h.open(ctx) }

func (h *harness) atClose(f func() error) {
	h.mu.Lock()
	h.cleanups = append(h.cleanups, f)
	h.mu.Unlock()
}

func (h *harness) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		if err := h.cleanups[i](); err != nil {
			h.errs = append(h.errs, err)
		}
	}
	h.cleanups = nil
}

func (h *harness) err() error {
	h.close()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%v (and %d more)", h.errs[0], len(h.errs)-1)
}

// closeHook runs after when the backend closes: it drops what the harness
// created for one test (a schema, a key prefix).
type closeHook struct {
	stores.Backend
	after func() error
}

func (c closeHook) Close() error {
	err := c.Backend.Close()
	if aerr := c.after(); err == nil {
		err = aerr
	}
	return err
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// withParam returns dsn with the query parameter key set to value,
// replacing any value it had. It works on every DSN form that has a query
// after the first "?" (URLs with several hosts do not parse as net/url).
func withParam(dsn, key, value string) (string, error) {
	base, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("the DSN's parameters do not parse: %v", err)
	}
	q.Set(key, value)
	return base + "?" + q.Encode(), nil
}

func newHarness(ctx context.Context, env cli.Env, driver, dsn string) (*harness, error) {
	h := &harness{env: env, driver: driver, dsn: dsn}
	lower := strings.ToLower(dsn)
	switch {
	case driver == "inmemory":
		h.open = func(ctx context.Context) (*stores.Store, error) { return cli.Open(ctx, driver, dsn) }
	case driver == "ent" && (strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")):
		return h, h.postgres(ctx)
	case driver == "ent":
		return h, h.sqlite()
	case driver == "redis":
		return h, h.redis(ctx)
	default:
		fmt.Fprintf(env.Stderr, "conformance: driver %s is not built in: every test opens %s as given, so the driver must isolate each Open\n", driver, stores.RedactDSN(dsn))
		h.open = func(ctx context.Context) (*stores.Store, error) { return cli.Open(ctx, driver, dsn) }
	}
	return h, nil
}

// sqlite gives each test its own database file in a temporary folder; an
// in-memory DSN is private to each Open already.
func (h *harness) sqlite() error {
	if strings.Contains(h.dsn, ":memory:") || strings.Contains(h.dsn, "mode=memory") {
		h.open = func(ctx context.Context) (*stores.Store, error) { return cli.Open(ctx, "ent", h.dsn) }
		return nil
	}
	if h.dsn == "" {
		return cli.Usagef("--dsn is required for ent (sqlite:///PATH or postgres://...)")
	}
	dir, err := os.MkdirTemp("", "orchestrix-conformance-*")
	if err != nil {
		return err
	}
	h.atClose(func() error { return os.RemoveAll(dir) })
	_, query, _ := strings.Cut(h.dsn, "?")
	var n int
	var mu sync.Mutex
	h.open = func(ctx context.Context) (*stores.Store, error) {
		mu.Lock()
		n++
		path := filepath.Join(dir, fmt.Sprintf("test-%d.db", n))
		mu.Unlock()
		dsn := "sqlite://" + path
		if query != "" {
			dsn += "?" + query
		}
		return cli.Open(ctx, "ent", dsn)
	}
	return nil
}

// postgres gives each test its own schema of the database the DSN names,
// through the ent backend's own connection (no second SQL driver).
func (h *harness) postgres(ctx context.Context) error {
	adminDSN, err := withParam(h.dsn, "migrate", "false")
	if err != nil {
		return cli.Usagef("--dsn: %v", err)
	}
	admin, err := cli.Open(ctx, "ent", adminDSN)
	if err != nil {
		return err
	}
	h.atClose(admin.Close)
	dbOf, ok := admin.Backend().(interface{ DB() *sql.DB })
	if !ok {
		return fmt.Errorf("the ent backend does not expose its database handle; cannot create isolated schemas")
	}
	if err := admin.Ping(ctx); err != nil {
		return err
	}
	db := dbOf.DB()
	h.open = func(ctx context.Context) (*stores.Store, error) {
		schema := randomName("orchestrix_conformance_")
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			return nil, fmt.Errorf("create schema %s: %w", schema, err)
		}
		drop := func() error {
			_, err := db.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			return err
		}
		dsn, err := withParam(h.dsn, "search_path", schema)
		if err != nil {
			return nil, err
		}
		s, err := cli.Open(ctx, "ent", dsn)
		if err != nil {
			_ = drop()
			return nil, err
		}
		return stores.Wrap("ent", closeHook{Backend: s.Backend(), after: drop}), nil
	}
	return nil
}

// redis gives each test its own key prefix, whose keys are deleted when
// the test's store closes.
func (h *harness) redis(ctx context.Context) error {
	if h.dsn == "" {
		return cli.Usagef("--dsn is required for redis (redis://HOST:PORT/DB)")
	}
	probe, err := cli.Open(ctx, "redis", h.dsn)
	if err != nil {
		return err
	}
	perr := probe.Ping(ctx)
	probe.Close()
	if perr != nil {
		return fmt.Errorf("redis at %s: %s", stores.RedactDSN(h.dsn), cli.Redact(perr.Error(), h.dsn))
	}
	h.open = func(ctx context.Context) (*stores.Store, error) {
		dsn, err := withParam(h.dsn, "prefix", randomName("orxconf-"))
		if err != nil {
			return nil, err
		}
		s, err := cli.Open(ctx, "redis", dsn)
		if err != nil {
			return nil, err
		}
		b := s.Backend()
		del, ok := b.(interface{ DeleteAll(context.Context) error })
		if !ok {
			return nil, fmt.Errorf("the redis backend cannot delete a prefix's keys; refusing to leave test keys behind")
		}
		// DeleteAll must run before the client closes.
		return stores.Wrap("redis", deleteFirst{Backend: b, del: del}), nil
	}
	return nil
}

// deleteFirst deletes a test prefix's keys, then closes the backend.
type deleteFirst struct {
	stores.Backend
	del interface{ DeleteAll(context.Context) error }
}

func (d deleteFirst) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := d.del.DeleteAll(ctx)
	if cerr := d.Backend.Close(); err == nil {
		err = cerr
	}
	return err
}
