package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// testAddr is the standalone server the tests use.
func testAddr() string {
	if a := os.Getenv("ORCHESTRIX_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// requireServer skips (or, with CI=true, fails) when addr does not answer.
func requireServer(t testing.TB, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		return
	}
	msg := "Redis is not reachable at " + addr + " (" + err.Error() + "); start one or set ORCHESTRIX_TEST_REDIS_ADDR=host:port to run these tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "orxtest-" + hex.EncodeToString(b)
}

// openBackend opens a backend on a fresh random prefix of the server the DSN
// names; its keys are deleted (SCAN/UNLINK, never FLUSHDB) when t ends.
func openBackend(t testing.TB, dsnBase string) *Backend {
	t.Helper()
	cfg, err := ParseDSN(dsnBase)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix = randomPrefix()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupBackend(t, cfg) })
	return b
}

// cleanupBackend deletes a prefix's keys through a client of its own: the
// store under test may be closed already.
func cleanupBackend(t testing.TB, cfg Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := OpenConfig(ctx, cfg)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer b.Close()
	if err := b.DeleteAll(ctx); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

func standaloneDSN() string { return "redis://" + testAddr() + "/0" }

// openStore is openBackend wrapped in the portable layer.
func openStore(t testing.TB) (*stores.Store, *Backend) {
	t.Helper()
	requireServer(t, testAddr())
	b := openBackend(t, standaloneDSN())
	s := stores.Wrap(DriverName, b)
	t.Cleanup(func() { s.Close() })
	return s, b
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
