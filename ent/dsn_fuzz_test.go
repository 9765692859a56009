package ent_test

import (
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/orchestrix/persistence/ent"
)

// sqlitePragmas are the parameters the driver itself puts on every SQLite
// DSN, with the value it relies on ("" when the value varies).
var sqlitePragmas = map[string]string{"_busy_timeout": "", "_fk": "1", "_sync": "", "_txlock": "immediate",
	"_time_integer_format": "unix_micro", "_inttotime": "1", "_journal_mode": "WAL",
	"_pragma": "temp_store(memory)"}

// ownText is dsn.go's source: its messages and the accepted forms every
// error lists. A password found in it ("memo" in "sqlite://:memory:") may
// have come from our own text, so the oracle cannot tell a leak from it.
var ownText = func() string {
	b, err := os.ReadFile("dsn.go")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// FuzzParseDSN (§2, E3): any DSN parses or is rejected without a panic and
// the same way twice; an error never shows the password; a SQLite path
// reaches the SQL driver unchanged and no caller text can add or override a
// pragma the store relies on; a PostgreSQL DSN loses the driver's own
// parameters before it reaches lib/pq.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"postgres://app:s3cret@db:5432/orchestrix?sslmode=disable", "postgresql://db/x?migrate=false",
		"postgres://u:p%40ss@db/x?max_open_conns=0", "postgres://u:se/cret1@db/x", "postgres://u:se?cret1@db/x",
		"postgres://u:se#cret1@db/x", "postgres://db/x?max_open_conns=2&max_open_conns=3", "postgres://%zz", "postgres:///x",
		"sqlite://orchestrix.db", "sqlite:///var/lib/o.db?busy_timeout=5", "sqlite://:memory:", "sqlite://:memory:?max_open_conns=2",
		"sqlite://a.db?_fk=0", "sqlite://a.db?synchronous=full", "sqlite://a.db?synchronous=off", "sqlite://a%3f_fk=0.db", "sqlite://a#b.db", "file:a.db?mode=memory&cache=shared",
		"file:///abs/a%3f_fk%3d0.db", "file://remote/x.db", "file:a%zz", "file:?x", "sqlite://", "mysql://x", "", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		c, err := ent.ParseDSN(dsn)
		c2, err2 := ent.ParseDSN(dsn)
		if (err == nil) != (err2 == nil) || (err == nil && !reflect.DeepEqual(c, c2)) {
			t.Fatalf("ParseDSN(%q) is not deterministic", dsn)
		}
		if err != nil {
			if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && len(pw) >= 4 && strings.Count(dsn, pw) == 1 && !strings.Contains("xxxxx", pw) && !strings.Contains(ownText, pw) &&
					strings.Contains(err.Error(), pw) {
					t.Fatalf("ParseDSN(%q) error shows the password %q: %v", dsn, pw, err)
				}
			}
			return
		}
		switch c.Dialect {
		case ent.DialectPostgres:
			u, perr := url.Parse(c.SQLDSN)
			if perr != nil {
				t.Fatalf("ParseDSN(%q): SQL DSN %q does not parse: %v", dsn, c.SQLDSN, perr)
			}
			for _, own := range []string{"migrate", "max_open_conns", "max_idle_conns", "conn_max_lifetime", "conn_max_idle_time"} {
				if u.Query().Has(own) {
					t.Fatalf("ParseDSN(%q): driver parameter %s reached lib/pq: %q", dsn, own, c.SQLDSN)
				}
			}
		case ent.DialectSQLite:
			rest, ok := strings.CutPrefix(c.SQLDSN, "file:")
			if !ok {
				t.Fatalf("ParseDSN(%q): SQLite DSN %q is not a file: URI", dsn, c.SQLDSN)
			}
			rawPath, rawQuery, _ := strings.Cut(rest, "?")
			if strings.Contains(rawPath, "#") {
				t.Fatalf("ParseDSN(%q): path %q holds an unescaped #", dsn, rawPath)
			}
			q, perr := url.ParseQuery(rawQuery)
			if perr != nil {
				t.Fatalf("ParseDSN(%q): SQL DSN query %q: %v", dsn, rawQuery, perr)
			}
			for k, vs := range q {
				want, ours := sqlitePragmas[k]
				switch {
				case ours && len(vs) != 1:
					t.Fatalf("ParseDSN(%q): pragma %s given %d times: %q", dsn, k, len(vs), c.SQLDSN)
				case ours && want != "" && vs[0] != want:
					t.Fatalf("ParseDSN(%q): pragma %s=%s, the store relies on %s", dsn, k, vs[0], want)
				case k == "_sync" && vs[0] != "NORMAL" && vs[0] != "FULL":
					t.Fatalf("ParseDSN(%q): _sync=%s, want NORMAL or FULL", dsn, vs[0])
				case !ours && k != "mode" && k != "cache" && k != "immutable" && k != "vfs":
					t.Fatalf("ParseDSN(%q): parameter %s reached the SQLite driver: %q", dsn, k, c.SQLDSN)
				}
			}
			if path, ok := strings.CutPrefix(dsn, "sqlite://"); ok && !strings.Contains(path, "?") {
				got, uerr := url.PathUnescape(rawPath)
				if uerr != nil || got != path {
					t.Fatalf("ParseDSN(%q): path %q reaches SQLite as %q (%v)", dsn, path, got, uerr)
				}
			}
			if c.Memory && c.MaxOpenConns != 1 {
				t.Fatalf("ParseDSN(%q): in-memory database with %d connections", dsn, c.MaxOpenConns)
			}
		default:
			t.Fatalf("ParseDSN(%q): dialect %q", dsn, c.Dialect)
		}
	})
}
