// Package testenv finds the servers the tools' tests use: PostgreSQL and
// Redis on loopback, or where ORCHESTRIX_TEST_POSTGRES_DSN and
// ORCHESTRIX_TEST_REDIS_DSN point. A test that needs an unreachable server
// skips, saying how to enable it, except with CI=true where it fails.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Defaults when the environment names no server.
const (
	DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisDSN    = "redis://127.0.0.1:6379/12"
)

// PostgresDSN returns the DSN of a reachable PostgreSQL test server.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return need(t, "ORCHESTRIX_TEST_POSTGRES_DSN", DefaultPostgresDSN, "5432", "PostgreSQL")
}

// RedisDSN returns the DSN of a reachable Redis test server (the caller
// adds its own prefix).
func RedisDSN(t testing.TB) string {
	t.Helper()
	return need(t, "ORCHESTRIX_TEST_REDIS_DSN", DefaultRedisDSN, "6379", "Redis")
}

func need(t testing.TB, env, def, port, what string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		dsn = def
	}
	host := "127.0.0.1:" + port
	if u, err := url.Parse(dsn); err == nil && u.Host != "" {
		host = u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), port)
		}
	}
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s at %s is not reachable: %v (CI=true: a missing server is a failure)", what, host, err)
		}
		t.Skipf("%s at %s is not reachable: %v; start it or set %s to run this test", what, host, err, env)
	}
	conn.Close()
	return dsn
}

// Name returns prefix followed by random hex, for databases and key prefixes.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
