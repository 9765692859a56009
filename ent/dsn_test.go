package ent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/ent"
)

func TestParseDSNPostgres(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:s3cret@db:5432/orchestrix?sslmode=disable&max_open_conns=7&max_idle_conns=3&conn_max_lifetime=30m&conn_max_idle_time=1m&migrate=false",
		"postgresql://app:s3cret@db:5432/orchestrix?sslmode=disable&max_open_conns=7&max_idle_conns=3&conn_max_lifetime=30m&conn_max_idle_time=1m&migrate=false",
	} {
		c, err := ent.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("ParseDSN(%q): %v", dsn, err)
		}
		if c.Dialect != ent.DialectPostgres || c.SQLDriver != "postgres" {
			t.Errorf("dialect %q driver %q, want postgres", c.Dialect, c.SQLDriver)
		}
		if c.Migrate || c.MaxOpenConns != 7 || c.MaxIdleConns != 3 || c.ConnMaxLifetime != 30*time.Minute || c.ConnMaxIdleTime != time.Minute {
			t.Errorf("pool/migrate params not applied: %+v", c)
		}
		if want := "postgres://app:s3cret@db:5432/orchestrix?sslmode=disable"; c.SQLDSN != want {
			t.Errorf("SQL DSN %q, want %q (own params stripped, the rest passed on)", c.SQLDSN, want)
		}
	}
	c, err := ent.ParseDSN("postgres://db/x")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Migrate || c.MaxOpenConns < 1 {
		t.Errorf("defaults: migrate %v, max open %d", c.Migrate, c.MaxOpenConns)
	}
}

func TestParseDSNSQLite(t *testing.T) {
	cases := []struct {
		dsn, path string
		memory    bool
	}{
		{"sqlite://data/orchestrix.db", "file:data/orchestrix.db?", false},
		{"sqlite:///var/lib/orchestrix/o.db", "file:/var/lib/orchestrix/o.db?", false},
		{"sqlite://:memory:", "file::memory:?", true},
		{"file:rel.db?busy_timeout=250", "file:rel.db?", false},
		{"file:///abs/o.db?mode=rwc", "file:/abs/o.db?", false},
		{"file:/abs/with%20space.db", "file:/abs/with space.db?", false},
		{"file:/abs/odd%3Fname%23.db", "file:/abs/odd%3fname%23.db?", false},
	}
	for _, tc := range cases {
		c, err := ent.ParseDSN(tc.dsn)
		if err != nil {
			t.Fatalf("ParseDSN(%q): %v", tc.dsn, err)
		}
		if c.Dialect != ent.DialectSQLite || c.SQLDriver != "sqlite" {
			t.Errorf("%q: dialect %q driver %q", tc.dsn, c.Dialect, c.SQLDriver)
		}
		if !strings.HasPrefix(c.SQLDSN, tc.path) {
			t.Errorf("%q: SQL DSN %q, want prefix %q", tc.dsn, c.SQLDSN, tc.path)
		}
		if c.Memory != tc.memory {
			t.Errorf("%q: memory %v, want %v", tc.dsn, c.Memory, tc.memory)
		}
		for _, p := range []string{"_fk=1", "_sync=NORMAL", "_txlock=immediate", "_time_integer_format=unix_micro", "_inttotime=1", "_busy_timeout=", "_pragma=temp_store(memory)"} {
			if !strings.Contains(c.SQLDSN, p) {
				t.Errorf("%q: SQL DSN %q lacks %s", tc.dsn, c.SQLDSN, p)
			}
		}
		if wal := strings.Contains(c.SQLDSN, "_journal_mode=WAL"); wal == tc.memory {
			t.Errorf("%q: WAL %v for memory %v", tc.dsn, wal, tc.memory)
		}
		if tc.memory && (c.MaxOpenConns != 1 || c.MaxIdleConns != 1 || c.ConnMaxLifetime != 0) {
			t.Errorf("%q: an in-memory database must live in one connection that is never recycled: %+v", tc.dsn, c)
		}
	}
	c, _ := ent.ParseDSN("file:rel.db?busy_timeout=250&mode=rwc")
	if c.BusyTimeout != 250*time.Millisecond || !strings.Contains(c.SQLDSN, "_busy_timeout=250") || !strings.Contains(c.SQLDSN, "mode=rwc") {
		t.Errorf("busy_timeout / URI params: %+v", c)
	}
	if strings.Contains(strings.ReplaceAll(c.SQLDSN, "_busy_timeout", ""), "busy_timeout") {
		t.Errorf("own param passed to the driver: %q", c.SQLDSN)
	}
	for dsn, want := range map[string]string{"sqlite://a.db?synchronous=full": "FULL", "sqlite://a.db?synchronous=Normal": "NORMAL", "sqlite://a.db": "NORMAL"} {
		c, err := ent.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("ParseDSN(%q): %v", dsn, err)
		}
		if c.Synchronous != want || strings.Count(c.SQLDSN, "_sync=") != 1 || !strings.Contains(c.SQLDSN, "_sync="+want) ||
			strings.Contains(c.SQLDSN, "synchronous") {
			t.Errorf("ParseDSN(%q): synchronous %q, SQL DSN %q; want %s", dsn, c.Synchronous, c.SQLDSN, want)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"", "empty DSN"},
		{"mysql://u:hunter2@db/x", `unknown scheme "mysql"`},
		{"redis://:hunter2@cache:6379/0", `unknown scheme "redis"`},
		{"just-a-path.db", "has no scheme"},
		{"postgres://u:hunter2@db/x?max_open_conns=zero", "max_open_conns must be a positive integer"},
		{"postgres://u:hunter2@db/x?migrate=perhaps", "migrate must be true or false"},
		{"postgres://u:hunter2@db/x?conn_max_lifetime=forever", "conn_max_lifetime must be a non-negative Go duration"},
		{"postgres://u:hunter2@db/x?migrate=false&migrate=true", "migrate is given 2 times"},
		{"postgres://u:hunter2@/x", "has no host"},
		{"sqlite://", "has no database path"},
		{"sqlite:///tmp/x.db?journal=delete", "unknown parameter(s) journal"},
		{"sqlite:///tmp/x.db?busy_timeout=-1", "busy_timeout must be a non-negative number"},
		{"sqlite:///tmp/x.db?synchronous=off", "synchronous must be normal or full"},
		{"sqlite://:memory:?max_open_conns=4", "max_open_conns must be 1"},
		{"file://otherhost/x.db", "remote host"},
	}
	for _, tc := range cases {
		_, err := ent.ParseDSN(tc.dsn)
		if err == nil {
			t.Errorf("ParseDSN(%q) accepted", tc.dsn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("ParseDSN(%q) = %q, want it to say %q", tc.dsn, msg, tc.want)
		}
		if !strings.Contains(msg, "accepted forms") {
			t.Errorf("ParseDSN(%q) = %q does not list the accepted forms", tc.dsn, msg)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("ParseDSN(%q) echoes the password: %q", tc.dsn, msg)
		}
	}
}
