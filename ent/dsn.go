package ent

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// Dialects the driver speaks.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// acceptedForms is the part of every DSN error that says what is accepted.
const acceptedForms = `accepted forms: postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS], postgresql://…, ` +
	`sqlite://PATH, sqlite:///ABS/PATH, sqlite://:memory:, file:PATH[?PARAMS]; ` +
	`driver params: migrate=true|false, max_open_conns=N, max_idle_conns=N, conn_max_lifetime=DURATION, ` +
	`conn_max_idle_time=DURATION; SQLite also busy_timeout=MS, synchronous=normal|full and the SQLite URI params mode, cache, immutable, vfs`

// Defaults of the connection pool and of SQLite.
const (
	defaultPostgresMaxOpen = 10
	defaultSQLiteMaxOpen   = 8
	defaultBusyTimeout     = 10 * time.Second
)

// Config is a parsed data source name: which database/sql driver to open,
// with what DSN, and how to size its pool.
type Config struct {
	// Dialect is DialectPostgres or DialectSQLite.
	Dialect string
	// SQLDriver is the database/sql driver name: "postgres" (lib/pq) or
	// "sqlite" (modernc.org/sqlite).
	SQLDriver string
	// SQLDSN is what is passed to sql.Open: the DSN without this driver's
	// own parameters, with the SQLite pragmas the store relies on.
	SQLDSN string
	// Memory is true for a private in-memory SQLite database, held by a
	// single connection so every call sees the same database.
	Memory bool
	// Migrate applies pending migrations on open (default true).
	Migrate bool

	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// BusyTimeout is how long a SQLite statement waits for the write lock.
	BusyTimeout time.Duration
	// Synchronous is SQLite's synchronous setting for a database file,
	// "NORMAL" (default) or "FULL"; see ParseDSN.
	Synchronous string
}

// sqliteURIParams are SQLite's own URI parameters, passed through.
var sqliteURIParams = map[string]bool{"mode": true, "cache": true, "immutable": true, "vfs": true}

// ParseDSN parses an "ent" data source name:
//
//	postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS]   (also postgresql://)
//	sqlite://PATH          a path relative to the working directory
//	sqlite:///ABS/PATH     an absolute path
//	sqlite://:memory:      a private in-memory database
//	file:PATH[?PARAMS]     a SQLite URI
//
// Driver parameters, removed before the DSN reaches the SQL driver:
// migrate=false (do not migrate on open), max_open_conns, max_idle_conns,
// conn_max_lifetime and conn_max_idle_time (Go durations). SQLite also takes
// busy_timeout (milliseconds, default 10000), synchronous (below) and
// SQLite's URI parameters mode, cache, immutable and vfs; PostgreSQL passes
// every other parameter to lib/pq (sslmode, application_name,
// search_path…). Errors never echo a password.
//
// SQLite database files are opened in WAL mode with foreign keys on and
// temporary storage (statement journals) in memory. With
// synchronous=normal (the default) a commit is written to the WAL but not
// fsynced; the WAL is fsynced before each checkpoint copies it into the
// database file. A crash of the process loses nothing that was committed,
// and the database stays consistent through any crash, but a power loss or
// operating system crash can undo the transactions committed since the last
// checkpoint (the store checkpoints in the background, at most every 20 ms
// after commits; the writer itself only once the WAL holds about 40 MiB):
// they roll back whole, never in part. synchronous=full also fsyncs the WAL
// at every commit, so a commit survives a power loss too, and every commit
// waits for the disk to flush.
func ParseDSN(dsn string) (Config, error) {
	lower := strings.ToLower(dsn)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return parsePostgres(dsn)
	case strings.HasPrefix(lower, "sqlite://"):
		return parseSQLite(dsn, dsn[len("sqlite://"):])
	case strings.HasPrefix(lower, "file:"):
		return parseSQLite(dsn, dsn[len("file:"):])
	case dsn == "":
		return Config{}, fmt.Errorf("ent: empty DSN; %s", acceptedForms)
	}
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || strings.ContainsAny(scheme, "/@?= ") {
		return Config{}, fmt.Errorf("ent: DSN %q has no scheme; %s", stores.RedactDSN(dsn), acceptedForms)
	}
	return Config{}, fmt.Errorf("ent: DSN %q has unknown scheme %q; %s", stores.RedactDSN(dsn), scheme, acceptedForms)
}

// driverParams takes this driver's own parameters out of q into c.
func driverParams(c *Config, q url.Values, dsn string) error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("ent: DSN %q: parameter %s %s; %s", stores.RedactDSN(dsn), key, fmt.Sprintf(format, args...), acceptedForms)
	}
	one := func(key string) (string, bool, error) {
		vs, ok := q[key]
		if !ok {
			return "", false, nil
		}
		delete(q, key)
		if len(vs) != 1 {
			return "", false, bad(key, "is given %d times", len(vs))
		}
		return vs[0], true, nil
	}
	if v, ok, err := one("migrate"); err != nil {
		return err
	} else if ok {
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return bad("migrate", "must be true or false, got %q", v)
		}
		c.Migrate = b
	}
	for _, p := range []struct {
		key string
		dst *int
	}{{"max_open_conns", &c.MaxOpenConns}, {"max_idle_conns", &c.MaxIdleConns}} {
		v, ok, err := one(p.key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return bad(p.key, "must be a positive integer, got %q", v)
		}
		*p.dst = n
	}
	for _, p := range []struct {
		key string
		dst *time.Duration
	}{{"conn_max_lifetime", &c.ConnMaxLifetime}, {"conn_max_idle_time", &c.ConnMaxIdleTime}} {
		v, ok, err := one(p.key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		d, perr := time.ParseDuration(v)
		if perr != nil || d < 0 {
			return bad(p.key, "must be a non-negative Go duration such as 30m, got %q", v)
		}
		*p.dst = d
	}
	if c.Dialect == DialectSQLite {
		v, ok, err := one("busy_timeout")
		if err != nil {
			return err
		}
		if ok {
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 0 {
				return bad("busy_timeout", "must be a non-negative number of milliseconds, got %q", v)
			}
			c.BusyTimeout = time.Duration(n) * time.Millisecond
		}
		v, ok, err = one("synchronous")
		if err != nil {
			return err
		}
		if ok {
			switch strings.ToUpper(v) {
			case "NORMAL", "FULL":
				c.Synchronous = strings.ToUpper(v)
			default:
				return bad("synchronous", "must be normal or full, got %q", v)
			}
		}
	}
	return nil
}

func parsePostgres(dsn string) (Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// url errors quote the input; say what is wrong without it.
		return Config{}, fmt.Errorf("ent: DSN %q is not a valid URL; %s", stores.RedactDSN(dsn), acceptedForms)
	}
	if u.Host == "" {
		return Config{}, fmt.Errorf("ent: DSN %q has no host; %s", stores.RedactDSN(dsn), acceptedForms)
	}
	c := Config{Dialect: DialectPostgres, SQLDriver: "postgres", Migrate: true, MaxOpenConns: defaultPostgresMaxOpen}
	q := u.Query()
	if err := driverParams(&c, q, dsn); err != nil {
		return Config{}, err
	}
	u.Scheme = "postgres"
	u.RawQuery = q.Encode()
	c.SQLDSN = u.String()
	return c, nil
}

func parseSQLite(dsn, rest string) (Config, error) {
	path, rawQuery, _ := strings.Cut(rest, "?")
	if strings.HasPrefix(strings.ToLower(dsn), "file:") {
		// file:///abs/path and file://localhost/abs/path are file URIs.
		if p, ok := strings.CutPrefix(path, "//"); ok {
			host, tail, _ := strings.Cut(p, "/")
			if host != "" && host != "localhost" {
				return Config{}, fmt.Errorf("ent: DSN %q names a remote host %q; a SQLite file must be local; %s", stores.RedactDSN(dsn), host, acceptedForms)
			}
			path = "/" + tail
		}
		unescaped, err := url.PathUnescape(path)
		if err != nil {
			return Config{}, fmt.Errorf("ent: DSN %q has a badly escaped path; %s", stores.RedactDSN(dsn), acceptedForms)
		}
		path = unescaped
	}
	if path == "" {
		return Config{}, fmt.Errorf("ent: DSN %q has no database path; %s", stores.RedactDSN(dsn), acceptedForms)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("ent: DSN %q has malformed parameters; %s", stores.RedactDSN(dsn), acceptedForms)
	}
	c := Config{Dialect: DialectSQLite, SQLDriver: "sqlite", Migrate: true, BusyTimeout: defaultBusyTimeout, Synchronous: "NORMAL"}
	if err := driverParams(&c, q, dsn); err != nil {
		return Config{}, err
	}
	pass := url.Values{}
	var unknown []string
	for k, vs := range q {
		if !sqliteURIParams[k] {
			unknown = append(unknown, k)
			continue
		}
		pass[k] = vs
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Config{}, fmt.Errorf("ent: DSN %q has unknown parameter(s) %s; %s", stores.RedactDSN(dsn), strings.Join(unknown, ", "), acceptedForms)
	}
	c.Memory = path == ":memory:" || pass.Get("mode") == "memory"
	if c.Memory {
		if c.MaxOpenConns > 1 {
			return Config{}, fmt.Errorf("ent: DSN %q: an in-memory SQLite database lives in one connection, max_open_conns must be 1; %s", stores.RedactDSN(dsn), acceptedForms)
		}
		// One connection that is never recycled: closing it would drop
		// the database.
		c.MaxOpenConns, c.MaxIdleConns, c.ConnMaxLifetime, c.ConnMaxIdleTime = 1, 1, 0, 0
	} else if c.MaxOpenConns == 0 {
		c.MaxOpenConns = defaultSQLiteMaxOpen
	}
	// The pragmas and time encoding the store relies on (see schema):
	// immediate transactions make every transaction take the write lock at
	// BEGIN (one writer, no lock upgrades that fail with SQLITE_BUSY);
	// temp_store=memory keeps statement journals in memory: a batch UPDATE
	// of 1000 jobs outgrows SQLite's 64 KiB in-memory journal and wrote the
	// rest to a temporary file, pwrite by pwrite (docs/PERFORMANCE.md).
	params := []string{
		"_busy_timeout=" + strconv.FormatInt(c.BusyTimeout.Milliseconds(), 10),
		"_fk=1",
		"_sync=" + c.Synchronous,
		"_txlock=immediate",
		"_time_integer_format=unix_micro",
		"_inttotime=1",
		"_pragma=temp_store(memory)",
	}
	if !c.Memory {
		params = append(params, "_journal_mode=WAL")
	}
	if len(pass) > 0 {
		params = append(params, pass.Encode())
	}
	c.SQLDSN = "file:" + escapeSQLitePath(path) + "?" + strings.Join(params, "&")
	return c, nil
}

// escapeSQLitePath escapes the characters that end or escape the path of a
// SQLite URI.
func escapeSQLitePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
