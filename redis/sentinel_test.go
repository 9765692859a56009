package redis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/conformance"
	goredis "github.com/redis/go-redis/v9"
)

// startSentinel starts a private primary and one sentinel watching it (as
// master "orx") on free loopback ports and returns the sentinel DSN; both
// stop when t ends. Without redis-server it skips, unless CI=true.
func startSentinel(t *testing.T) string {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not installed: install it to run the Sentinel tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	mport, err := freePort()
	must(t, err)
	sport, err := freePort()
	must(t, err)
	start := func(args ...string) {
		cmd := exec.Command(server, args...)
		must(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	start("--port", fmt.Sprint(mport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "primary.log"))
	must(t, waitPing(fmt.Sprintf("127.0.0.1:%d", mport)))
	conf := filepath.Join(dir, "sentinel.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor orx 127.0.0.1 %d 1\n",
		sport, dir, filepath.Join(dir, "sentinel.log"), mport)), 0o644))
	start(conf, "--sentinel")
	saddr := fmt.Sprintf("127.0.0.1:%d", sport)
	must(t, waitPing(saddr))
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: saddr})
	defer sc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		addr, err := sc.GetMasterAddrByName(context.Background(), "orx").Result()
		if err == nil && len(addr) == 2 && addr[1] == fmt.Sprint(mport) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel does not know master orx: %v %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "redis+sentinel://" + saddr + "/orx/0"
}

// TestConformanceSentinel runs the suite through a Sentinel-discovered
// primary (the redis+sentinel DSN form).
func TestConformanceSentinel(t *testing.T) {
	dsn := startSentinel(t)
	cfg, err := ParseDSN(dsn)
	must(t, err)
	if cfg.Mode != ModeSentinel || !strings.HasSuffix(fmt.Sprint(cfg.universal().MasterName), "orx") {
		t.Fatalf("parsed %+v", cfg)
	}
	conformance.Run(t, harness(dsn), conformance.Features{})
}
